"""Turns a stored score into what the owner reads: sentences in the page's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import get_language

from dangol.scoring.models import CustomerScore, CustomerStatus
from dangol.scoring.selectors import RiskSummary

# Fewer visits than this are not a habit yet (the same rule as the broken-habit detection).
MIN_HABIT_VISITS = 4

# Worst first, so the bar reads left to right from "needs you now" to "fine".
STATUS_ORDER = (
    CustomerStatus.BROKEN_HABIT,
    CustomerStatus.AT_RISK,
    CustomerStatus.NEW,
    CustomerStatus.ACTIVE,
    CustomerStatus.SEASONAL,
    CustomerStatus.DORMANT,
    CustomerStatus.LAPSED,
)


def _korean() -> bool:
    return (get_language() or "ko").startswith("ko")


@dataclass(frozen=True)
class ScoreView:
    score: CustomerScore
    reasons: list[str]
    action: str
    habit_weekday: str | None
    days_until_next: int | None
    churn_percent: int
    alive_percent: int
    gap_days: int | None

    @property
    def status_label(self) -> str:
        return self.score.get_status_display()

    @property
    def overdue_days(self) -> int | None:
        return -self.days_until_next if self.days_until_next is not None else None


def score_view(score: CustomerScore, *, today: dt.date | None = None) -> ScoreView:
    today = today or timezone.localdate()
    key = "ko" if _korean() else "en"
    nxt = score.expected_next_visit
    return ScoreView(
        score=score,
        reasons=[r[key] for r in score.reasons],
        action=score.action_ko if key == "ko" else score.action_en,
        habit_weekday=(
            str(WEEKDAYS[score.habit_weekday - 1])
            if score.habit_weekday and score.visits >= MIN_HABIT_VISITS
            else None
        ),
        days_until_next=(nxt - today).days if nxt else None,
        churn_percent=round(score.churn_probability * 100),
        alive_percent=round(score.p_alive * 100),
        # Rounded like the reasons' sentences, so "every 4 days" reads the same everywhere.
        gap_days=round(score.typical_gap_days) if score.typical_gap_days is not None else None,
    )


@dataclass(frozen=True)
class StatusPart:
    key: str
    label: str
    count: int
    x: float
    width: float


def status_parts(summary: RiskSummary, *, width: int = 320) -> list[StatusPart]:
    """Segments of one horizontal bar, one per status, in STATUS_ORDER."""
    total = sum(summary.by_status.values())
    if not total:
        return []
    parts, x = [], 0.0
    for status in STATUS_ORDER:
        count = summary.by_status.get(status, 0)
        if not count:
            continue
        w = width * count / total
        parts.append(StatusPart(status.value, str(status.label), count, round(x, 1), round(w, 1)))
        x += w
    return parts
