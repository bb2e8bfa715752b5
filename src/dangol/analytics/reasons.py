"""Plain-language reasons and a suggested action for every at-risk customer (Korean and English).

Reasons are picked by fixed rules from the churn features, strongest first, at most three, so
the same data always produce the same sentences. Thresholds are module constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from .cadence import WEEKDAYS_EN, WEEKDAYS_KO

OVERDUE_RATIO = 1.5  # late by at least half a usual gap
TREND_DROP = 0.6  # recent visit rate at most 60 % of the earlier rate
LOW_P_ALIVE = 0.3
ONE_TIMER_DAYS = 30
VALUABLE_QUANTILE = 0.75  # top quarter by spend gets a personal call instead of a coupon
MAX_REASONS = 3


@dataclass(frozen=True)
class Reason:
    key: str
    strength: float
    ko: str
    en: str


_HELLO = ("가벼운 안부 메시지로 다시 인사해 보세요.", "Say hello again with a light message.")
ACTIONS: dict[str, tuple[str, str]] = {
    "broken_habit": (
        "평소 오시던 {day_ko}요일에 맞춰 안부 메시지를 보내 보세요.",
        "Send a friendly message timed for their usual {day_en}.",
    ),
    "overdue": ("재방문 쿠폰을 보내 보세요.", "Send a come-back coupon."),
    "declining": (
        "좋아하시던 메뉴의 새 소식을 알려 드려 보세요.",
        "Tell them what is new with the items they like.",
    ),
    "one_timer": ("두 번째 방문 할인을 제안해 보세요.", "Offer a second-visit discount."),
    "pattern": _HELLO,
    "since_last": _HELLO,
    "valuable": (
        "소중한 단골이에요. 사장님이 직접 연락해 보세요.",
        "A valuable regular: reach out personally.",
    ),
}


def _days(value: float) -> int:
    return round(value)


def customer_reasons(row: dict[str, Any]) -> list[Reason]:
    """All reasons that apply to one customer's features, strongest first."""
    found: list[Reason] = []
    since = _days(row.get("days_since_last") or 0.0)
    gap = row.get("typical_gap_days") or 0.0
    visits = (row.get("frequency") or 0.0) + 1
    weekday = row.get("habit_weekday")
    if row.get("broken_habit") and weekday:
        missed = int(row.get("missed_occurrences") or 2)
        period = int(row.get("habit_period_weeks") or 1)
        every_ko = "매주" if period == 1 else f"{period}주마다"
        every_en = "every" if period == 1 else f"every {period} weeks on"
        day_ko = WEEKDAYS_KO[weekday - 1]
        found.append(
            Reason(
                "broken_habit",
                10.0 + missed,
                f"{every_ko} {day_ko}요일에 오시던 분인데 {missed}번 연속 오지 않으셨어요",
                f"Used to come {every_en} {WEEKDAYS_EN[weekday - 1]}, but missed the last {missed}",
            )
        )
    ratio = row.get("overdue_ratio") or 0.0
    if visits >= 2 and gap >= 1 and ratio >= OVERDUE_RATIO:
        found.append(
            Reason(
                "overdue",
                ratio,
                f"보통 {_days(gap)}일마다 오시는데 {since}일째 방문이 없어요",
                f"Usually visits every {_days(gap)} days; no visit for {since} days",
            )
        )
    trend = row.get("trend_90")
    if trend is not None and trend <= TREND_DROP and (row.get("visits_before_90") or 0) >= 2:
        if trend <= 0.5:
            ko, en = "절반 이하로", "by half or more"
        else:
            share = round((1 - trend) * 100)
            ko, en = f"{share}% 정도", f"by about {share}%"
        found.append(
            Reason(
                "declining",
                1.0 / max(trend, 0.05),
                f"최근 3개월 방문이 그 전보다 {ko} 줄었어요",
                f"Visits in the last 3 months fell {en} compared with before",
            )
        )
    if visits < 2 and since >= ONE_TIMER_DAYS:
        found.append(
            Reason(
                "one_timer",
                since / ONE_TIMER_DAYS,
                f"첫 방문 후 {since}일 동안 다시 오지 않으셨어요",
                f"Has not come back in the {since} days since the first visit",
            )
        )
    p_alive = row.get("bgnbd_p_alive")
    if visits >= 3 and p_alive is not None and p_alive < LOW_P_ALIVE:
        found.append(
            Reason(
                "pattern",
                1.0 - p_alive,
                "지금까지의 방문 패턴으로 보면 발길이 끊겼을 가능성이 높아요",
                "Their visit pattern suggests they may have stopped coming",
            )
        )
    if not found:
        found.append(
            Reason(
                "since_last",
                0.0,
                f"마지막 방문 후 {since}일이 지났어요",
                f"{since} days since the last visit",
            )
        )
    return sorted(found, key=lambda r: -r.strength)


def explain(
    scored: pl.DataFrame,
    *,
    customer: str,
    rhythm: pl.DataFrame | None = None,
    max_reasons: int = MAX_REASONS,
    only_at_risk: bool = True,
) -> pl.DataFrame:
    """Reasons and action per customer of ``ChurnModel.predict`` output.

    ``rhythm`` (from :func:`dangol.analytics.cadence.cadence`) adds the weekday-habit reason.
    Returns ``customer``, ``churn_probability``, ``reasons_ko``, ``reasons_en`` (lists of 1 to
    ``max_reasons`` sentences), ``action_ko`` and ``action_en``, highest risk first.
    """
    frame = (
        scored.filter(pl.col("at_risk")) if only_at_risk and "at_risk" in scored.columns else scored
    )
    if rhythm is not None:
        habit = rhythm.select(customer, "habit_weekday", "missed_occurrences", "habit_period_weeks")
        frame = frame.join(habit, on=customer, how="left")
    spend_cut = scored["total_spend"].quantile(VALUABLE_QUANTILE) if scored.height else None
    rows = []
    for row in frame.iter_rows(named=True):
        reasons = customer_reasons(row)[:max_reasons]
        top = reasons[0]
        valuable = (
            spend_cut is not None
            and spend_cut > 0
            and (row.get("total_spend") or 0) > spend_cut
            and row.get("frequency", 0) >= 2
        )
        action_key = "valuable" if valuable and top.key != "broken_habit" else top.key
        weekday = row.get("habit_weekday") or 1
        action_ko, action_en = (
            text.format(day_ko=WEEKDAYS_KO[weekday - 1], day_en=WEEKDAYS_EN[weekday - 1])
            for text in ACTIONS[action_key]
        )
        rows.append(
            {
                customer: row[customer],
                "churn_probability": row.get("churn_probability"),
                "reasons_ko": [r.ko for r in reasons],
                "reasons_en": [r.en for r in reasons],
                "reason_keys": [r.key for r in reasons],
                "action_ko": action_ko,
                "action_en": action_en,
            }
        )
    schema = {
        customer: scored.schema[customer],
        "churn_probability": pl.Float64,
        "reasons_ko": pl.List(pl.String),
        "reasons_en": pl.List(pl.String),
        "reason_keys": pl.List(pl.String),
        "action_ko": pl.String,
        "action_en": pl.String,
    }
    out = pl.DataFrame(rows, schema=schema)
    return out.sort("churn_probability", customer, descending=[True, False], nulls_last=True)
