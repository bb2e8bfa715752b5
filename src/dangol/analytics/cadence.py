"""Personal visit rhythm: typical gap, weekday and hour habits, overdue ratio, broken habits.

A regular's own rhythm is a stronger signal than any population model for a small shop: the
owner knows "the Thursday group", and a Thursday group that misses two Thursdays is news.
All computations are whole-column polars; a visit is a customer-day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .summary import as_date, customer_days

# Defaults of the habit rules; each is a keyword argument of `cadence`.
MIN_HABIT_VISITS = 4  # fewer visits than this cannot establish a habit
MIN_WEEKDAY_SHARE = 0.6  # share of visits on the modal weekday that makes it "their day"
MIN_MISSED = 2  # consecutive expected occurrences missed before the habit counts as broken

WEEKDAYS_KO = ("월", "화", "수", "목", "금", "토", "일")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def visits(
    transactions: pl.DataFrame, *, customer: str, at: str, asof: dt.date | None = None
) -> pl.DataFrame:
    """One row per customer-day (``_day``) with the hour of the day's first purchase (``_hour``)."""
    dtype = transactions.schema[at]
    col = pl.col(at)
    if dtype == pl.String:
        col = col.str.to_datetime(strict=False)
        dtype = pl.Datetime
    has_time = dtype == pl.Datetime
    day = col.dt.date() if has_time else col
    # Dates without a time of day carry no hour habit.
    hour = col.dt.hour() if has_time else pl.lit(None, pl.Int32)
    return customer_days(transactions, customer=customer, day=day, hour=hour, asof=asof)


def _mode(
    frame: pl.DataFrame, customer: str, column: str, name: str, size: int, base: int
) -> pl.DataFrame:
    """Most frequent value per customer (ties to the smallest) and its share of visits.

    ``frame`` is sorted by customer; values are integers in ``base .. base + size - 1``. Counts
    come from one ``bincount`` over (customer position, value) instead of a group-by.
    """
    known = frame.select(customer, column).drop_nulls(column)
    if known.height == 0:
        return pl.DataFrame(
            schema={
                customer: frame.schema[customer],
                name: frame.schema[column],
                f"{name}_share": pl.Float64,
            }
        )
    ids = known[customer]
    new = ids.ne_missing(ids.shift()).to_numpy().astype(bool)
    new[:1] = True
    position = np.cumsum(new) - 1
    n = int(position[-1]) + 1
    values = known[column].to_numpy().astype(np.int64) - base
    counts = np.bincount(position * size + values, minlength=n * size).reshape(n, size)
    best = counts.argmax(axis=1)  # first maximum: ties go to the smallest value
    share = counts[np.arange(n), best] / counts.sum(axis=1)
    return pl.DataFrame(
        {
            customer: ids.filter(pl.Series(new)),
            name: pl.Series(best + base, dtype=frame.schema[column]),
            f"{name}_share": share,
        }
    )


def cadence(
    transactions: pl.DataFrame,
    *,
    customer: str,
    at: str,
    asof: dt.date | dt.datetime | str,
    min_habit_visits: int = MIN_HABIT_VISITS,
    min_weekday_share: float = MIN_WEEKDAY_SHARE,
    min_missed: int = MIN_MISSED,
) -> pl.DataFrame:
    """Per-customer rhythm as of the end of day ``asof``.

    Columns: ``visits``, ``first_visit``, ``last_visit``, ``days_since_last``,
    ``typical_gap_days`` (median days between visits; null with one visit), ``gap_spread_days``
    (median absolute deviation of the gaps), ``overdue_ratio`` (days since last visit divided by
    the typical gap), ``expected_next_visit``, ``habit_weekday`` (1 = Monday .. 7 = Sunday),
    ``habit_weekday_share``, ``habit_hour``, ``habit_hour_share``, ``habit_period_weeks`` (1 for
    weekly, 2 for fortnightly, ...), ``missed_occurrences`` (habit days passed since the last
    visit), ``regular`` and ``broken_habit``.

    A habit is broken when a regular (at least ``min_habit_visits`` visits, at least
    ``min_weekday_share`` of them on one weekday) has let ``min_missed`` or more of their habit
    days go by since the last visit.
    """
    day_asof = as_date(asof)
    per_day = visits(transactions, customer=customer, at=at, asof=day_asof)
    return cadence_of_visits(
        per_day,
        customer=customer,
        asof=day_asof,
        min_habit_visits=min_habit_visits,
        min_weekday_share=min_weekday_share,
        min_missed=min_missed,
    )


def cadence_of_visits(
    per_day: pl.DataFrame,
    *,
    customer: str,
    asof: dt.date,
    min_habit_visits: int = MIN_HABIT_VISITS,
    min_weekday_share: float = MIN_WEEKDAY_SHARE,
    min_missed: int = MIN_MISSED,
) -> pl.DataFrame:
    """:func:`cadence` from the output of :func:`visits` (sorted by customer, then day)."""
    day_asof = asof
    same = pl.col(customer).eq_missing(pl.col(customer).shift())
    per_day = per_day.with_columns(
        # Day-to-day gaps within a customer's (sorted) visits; shifting is far cheaper than a
        # window over customers.
        pl.when(same).then(pl.col("_day").diff()).dt.total_days().alias("_gap"),
        pl.col("_day").dt.weekday().alias("_weekday"),
        pl.col(customer).set_sorted(),
    )
    # Groups come out in customer order, so the median gap goes back to each visit by position;
    # a median over a window inside the aggregation costs several times more.
    base = per_day.group_by(customer, maintain_order=True).agg(
        pl.len().alias("visits"),
        pl.col("_day").first().alias("first_visit"),
        pl.col("_day").last().alias("last_visit"),
        pl.col("_gap").drop_nulls().median().alias("typical_gap_days"),
    )
    median_gap = np.repeat(base["typical_gap_days"].to_numpy(), base["visits"].to_numpy())
    spread = (
        per_day.select(customer, (pl.col("_gap") - pl.Series(median_gap)).abs().alias("_dev"))
        .group_by(customer, maintain_order=True)
        .agg(pl.col("_dev").drop_nulls().median().alias("gap_spread_days"))
    )
    base = base.with_columns(spread["gap_spread_days"])
    weekday = _mode(per_day, customer, "_weekday", "habit_weekday", 7, 1)
    hour = _mode(per_day, customer, "_hour", "habit_hour", 24, 0)
    out = (
        base.join(weekday, on=customer, how="left")
        .join(hour, on=customer, how="left")
        .with_columns(
            (pl.lit(day_asof) - pl.col("last_visit")).dt.total_days().alias("days_since_last"),
            pl.col("typical_gap_days").cast(pl.Float64),
        )
        .with_columns(
            (pl.col("days_since_last") / pl.col("typical_gap_days").clip(lower_bound=1.0)).alias(
                "overdue_ratio"
            ),
            (pl.col("last_visit") + pl.duration(days=pl.col("typical_gap_days").round(0))).alias(
                "expected_next_visit"
            ),
            # A fortnightly habit is missed once every two weeks, not every week.
            (pl.col("typical_gap_days") / 7.0)
            .round(0)
            .clip(lower_bound=1)
            .fill_null(1)
            .cast(pl.Int64)
            .alias("habit_period_weeks"),
        )
    )
    # First habit day after the last visit, then one every period; count those up to asof.
    offset = (pl.col("habit_weekday") - pl.col("last_visit").dt.weekday()) % 7
    period_days = pl.col("habit_period_weeks") * 7
    first_due = pl.when(offset == 0).then(period_days).otherwise(offset)
    missed = (
        pl.when(pl.col("days_since_last") >= first_due)
        .then((pl.col("days_since_last") - first_due) // period_days + 1)
        .otherwise(0)
    )
    regular = (pl.col("visits") >= min_habit_visits) & (
        pl.col("habit_weekday_share") >= min_weekday_share
    )
    return (
        out.with_columns(missed.cast(pl.Int64).alias("missed_occurrences"))
        .with_columns(
            regular.fill_null(False).alias("regular"),
            (regular & (pl.col("missed_occurrences") >= min_missed))
            .fill_null(False)
            .alias("broken_habit"),
        )
        .select(
            customer,
            "visits",
            "first_visit",
            "last_visit",
            "days_since_last",
            "typical_gap_days",
            "gap_spread_days",
            "overdue_ratio",
            "expected_next_visit",
            "habit_weekday",
            "habit_weekday_share",
            "habit_hour",
            "habit_hour_share",
            "habit_period_weeks",
            "missed_occurrences",
            "regular",
            "broken_habit",
        )
        .sort(customer)
    )
