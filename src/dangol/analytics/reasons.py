"""Plain-language reasons and a suggested action for every at-risk customer (Korean and English).

Reasons are picked by fixed rules from the churn features, strongest first, at most three, so
the same data always produce the same sentences. Thresholds are module constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
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
    schema = {
        customer: scored.schema[customer],
        "churn_probability": pl.Float64,
        "reasons_ko": pl.List(pl.String),
        "reasons_en": pl.List(pl.String),
        "reason_keys": pl.List(pl.String),
        "action_ko": pl.String,
        "action_en": pl.String,
    }
    if frame.height >= VECTORISED_MIN_ROWS:
        out = _explain_columns(frame, customer, spend_cut, max_reasons).select(list(schema))
        out = out.cast(schema)  # type: ignore[arg-type]
    else:
        out = _explain_rows(frame, customer, spend_cut, max_reasons, schema)
    return out.sort("churn_probability", customer, descending=[True, False], nulls_last=True)


def _explain_rows(
    frame: pl.DataFrame,
    customer: str,
    spend_cut: float | None,
    max_reasons: int,
    schema: dict[str, Any],
) -> pl.DataFrame:
    """Row by row with :func:`customer_reasons`: the reference the column version must match."""
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
    return pl.DataFrame(rows, schema=schema)


# From this many customers on, reasons are assembled column by column (same rules and texts).
VECTORISED_MIN_ROWS = 500
_KEYS = ("broken_habit", "overdue", "declining", "one_timer", "pattern")


def _truthy_or(frame: pl.DataFrame, name: str, default: float) -> np.ndarray:
    """Python's ``row.get(name) or default`` for a whole column, as floats."""
    if name not in frame.columns:
        return np.full(frame.height, default)
    values = frame[name].cast(pl.Float64).fill_null(0.0).to_numpy().copy()
    values[values == 0.0] = default
    return values


def _optional(frame: pl.DataFrame, name: str) -> np.ndarray:
    """The column as floats with NaN for missing values (``row.get(name)`` being None)."""
    if name not in frame.columns:
        return np.full(frame.height, np.nan)
    return frame[name].cast(pl.Float64).to_numpy().astype(np.float64)


def _explain_columns(
    frame: pl.DataFrame, customer: str, spend_cut: float | None, max_reasons: int
) -> pl.DataFrame:
    """:func:`customer_reasons` and the action choice for every row at once.

    Strengths go in a matrix (one column per rule, in the rules' order); a stable sort of each
    row by falling strength gives the same order as sorting the row's reasons in Python.
    """
    n = frame.height
    since = np.round(_truthy_or(frame, "days_since_last", 0.0))
    gap = _truthy_or(frame, "typical_gap_days", 0.0)
    visits = _truthy_or(frame, "frequency", 0.0) + 1
    weekday = _truthy_or(frame, "habit_weekday", 0.0)
    broken = _truthy_or(frame, "broken_habit", 0.0) != 0.0
    missed = np.trunc(_truthy_or(frame, "missed_occurrences", 2.0))
    period = np.trunc(_truthy_or(frame, "habit_period_weeks", 1.0))
    ratio = _truthy_or(frame, "overdue_ratio", 0.0)
    trend = _optional(frame, "trend_90")
    before = _truthy_or(frame, "visits_before_90", 0.0)
    p_alive = _optional(frame, "bgnbd_p_alive")
    with np.errstate(invalid="ignore", divide="ignore"):
        applies = np.column_stack(
            [
                broken & (weekday != 0.0),
                (visits >= 2) & (gap >= 1) & (ratio >= OVERDUE_RATIO),
                (trend <= TREND_DROP) & (before >= 2),
                (visits < 2) & (since >= ONE_TIMER_DAYS),
                (visits >= 3) & (p_alive < LOW_P_ALIVE),
            ]
        )
        strength = np.column_stack(
            [
                10.0 + missed,
                ratio,
                1.0 / np.maximum(trend, 0.05),
                since / ONE_TIMER_DAYS,
                1.0 - p_alive,
            ]
        )
    order = np.argsort(np.where(applies, -strength, np.inf), axis=1, kind="stable")
    count = applies.sum(axis=1)
    keep = min(max_reasons, len(_KEYS))

    day_index = np.clip(weekday, 1, 7).astype(np.int64) - 1
    ko_days = np.array(WEEKDAYS_KO, dtype=object)[day_index]
    en_days = np.array(WEEKDAYS_EN, dtype=object)[day_index]
    ints = {
        "since": since.astype(np.int64),
        "gap": np.round(gap).astype(np.int64),
        "missed": missed.astype(np.int64),
        "period": period.astype(np.int64),
        "share": np.round((1 - np.nan_to_num(trend)) * 100).astype(np.int64),
    }
    texts = pl.DataFrame(
        {
            "day_ko": pl.Series(ko_days, dtype=pl.String),
            "day_en": pl.Series(en_days, dtype=pl.String),
            "half": trend <= 0.5,
            **ints,
        }
    ).select(
        pl.when(pl.col("period") == 1)
        .then(pl.lit("매주"))
        .otherwise(pl.format("{}주마다", "period"))
        .alias("every_ko"),
        pl.when(pl.col("period") == 1)
        .then(pl.lit("every"))
        .otherwise(pl.format("every {} weeks on", "period"))
        .alias("every_en"),
        pl.when("half")
        .then(pl.lit("절반 이하로"))
        .otherwise(pl.format("{}% 정도", "share"))
        .alias("drop_ko"),
        pl.when("half")
        .then(pl.lit("by half or more"))
        .otherwise(pl.format("by about {}%", "share"))
        .alias("drop_en"),
        pl.all(),
    )
    ko = [
        pl.format(
            "{} {}요일에 오시던 분인데 {}번 연속 오지 않으셨어요", "every_ko", "day_ko", "missed"
        ),
        pl.format("보통 {}일마다 오시는데 {}일째 방문이 없어요", "gap", "since"),
        pl.format("최근 3개월 방문이 그 전보다 {} 줄었어요", "drop_ko"),
        pl.format("첫 방문 후 {}일 동안 다시 오지 않으셨어요", "since"),
        pl.lit("지금까지의 방문 패턴으로 보면 발길이 끊겼을 가능성이 높아요"),
        pl.format("마지막 방문 후 {}일이 지났어요", "since"),
    ]
    en = [
        pl.format("Used to come {} {}, but missed the last {}", "every_en", "day_en", "missed"),
        pl.format("Usually visits every {} days; no visit for {} days", "gap", "since"),
        pl.format("Visits in the last 3 months fell {} compared with before", "drop_en"),
        pl.format("Has not come back in the {} days since the first visit", "since"),
        pl.lit("Their visit pattern suggests they may have stopped coming"),
        pl.format("{} days since the last visit", "since"),
    ]
    keys = [*_KEYS, "since_last"]
    # Rule picked at each rank (5 = the "days since last visit" fallback, -1 = nothing).
    picks = {}
    for rank in range(keep):
        pick = np.where(rank < count, order[:, rank], -1)
        if rank == 0:
            pick = np.where(count == 0, len(_KEYS), pick)
        picks[f"_pick{rank}"] = pick

    valuable = np.zeros(n, dtype=bool)
    if spend_cut is not None and spend_cut > 0:
        spend = _truthy_or(frame, "total_spend", 0.0)
        valuable = (spend > spend_cut) & (frame["frequency"].to_numpy() >= 2)
    top = picks["_pick0"]
    action = np.where(valuable & (top != 0), len(keys), top)
    action_texts = [ACTIONS[k] for k in keys] + [ACTIONS["valuable"]]
    # The broken-habit action names the weekday: its "{day_ko}" becomes a format placeholder.
    habit_ko = pl.format(ACTIONS["broken_habit"][0].replace("{day_ko}", "{}"), "day_ko")
    habit_en = pl.format(ACTIONS["broken_habit"][1].replace("{day_en}", "{}"), "day_en")
    # Each sentence is formatted once for every row, then gathered for the rows that pick it.
    sentences = texts.select(
        *(text.alias(f"_ko{i}") for i, text in enumerate(ko)),
        *(text.alias(f"_en{i}") for i, text in enumerate(en)),
        habit_ko.alias("_habit_ko"),
        habit_en.alias("_habit_en"),
    )
    rows = np.arange(n, dtype=np.int64)
    # Every row's picks in rank order, without the empty ranks (rank 0 always has one).
    pick = np.stack(list(picks.values()), axis=1).ravel()
    row = np.repeat(rows, len(picks))
    row, pick = row[pick >= 0], pick[pick >= 0]

    def listed(pool: pl.Series, index: np.ndarray) -> pl.Series:
        flat = pl.DataFrame({"_row": row, "_value": pool.gather(index)})
        return (
            flat.with_columns(pl.col("_row").set_sorted())
            .group_by("_row", maintain_order=True)
            .agg("_value")["_value"]
        )

    # The sentences of all rules stacked in one column, rule by rule.
    ko_pool = pl.concat([sentences[f"_ko{i}"] for i in range(len(ko))])
    en_pool = pl.concat([sentences[f"_en{i}"] for i in range(len(en))])
    lists = pl.DataFrame(
        {
            "reasons_ko": listed(ko_pool, pick * n + row),
            "reasons_en": listed(en_pool, pick * n + row),
            "reason_keys": listed(pl.Series(keys, dtype=pl.String), pick),
        }
    )
    # Actions: the broken-habit one names the weekday (per row), the others are fixed texts.
    action_ko = pl.Series([t[0] for t in action_texts], dtype=pl.String).gather(action)
    action_en = pl.Series([t[1] for t in action_texts], dtype=pl.String).gather(action)
    habit = pl.Series(action == 0)
    return pl.DataFrame(
        {customer: frame[customer], "churn_probability": frame["churn_probability"]}
    ).hstack(
        lists.with_columns(
            action_ko.zip_with(~habit, sentences["_habit_ko"]).alias("action_ko"),
            action_en.zip_with(~habit, sentences["_habit_en"]).alias("action_en"),
        )
    )
