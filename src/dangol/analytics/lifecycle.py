"""Where each customer stands today, in one word the owner can act on.

Statuses, first matching rule wins (thresholds are keyword arguments of ``lifecycle_status``):

- ``lapsed`` 이탈: a regular (3+ visits) gone for 60+ days and 3+ of their usual gaps;
  the owner sends a win-back offer.
- ``seasonal`` 계절 손님: every visit fell in one 3-month season (see
  :func:`seasonal_customers`), and the season is over; the owner waits for the next one.
- ``dormant`` 휴면: anyone else not seen for 60+ days (mostly one-time visitors); a cheap
  reminder at most.
- ``broken_habit`` 습관 깨짐: a weekday regular who missed 2+ of their usual days; a personal
  message now.
- ``at_risk`` 이탈 위험: churn probability at or above the at-risk threshold; a come-back coupon.
- ``new`` 신규: one visit, within the last 30 days; a second-visit offer.
- ``active`` 단골: everyone else; nothing needed.

60 days is the churn model's default horizon: a customer with no purchase in 60 days is exactly
what the model calls churned, so "lapsed" and the model's label mean the same thing.
"""

from __future__ import annotations

import polars as pl

LAPSED_DAYS = 60
LAPSED_OVERDUE_RATIO = 3.0
MIN_REGULAR_VISITS = 3
NEW_DAYS = 30
SEASON_MONTHS = 3

STATUSES: dict[str, tuple[str, str]] = {
    "lapsed": ("이탈", "Lapsed"),
    "seasonal": ("계절 손님", "Seasonal"),
    "dormant": ("휴면", "Dormant"),
    "broken_habit": ("습관 깨짐", "Broken habit"),
    "at_risk": ("이탈 위험", "At risk"),
    "new": ("신규", "New"),
    "active": ("단골", "Active"),
}
# Statuses an owner can still win back with a message; revenue at risk is counted over these.
WINNABLE = ("broken_habit", "at_risk")


def seasonal_customers(
    visits: pl.DataFrame,
    *,
    customer: str,
    min_visits: int = MIN_REGULAR_VISITS,
    season_months: int = SEASON_MONTHS,
    min_season_customers: int = 5,
    season_excess: float = 3.0,
    min_recurring: int = 2,
) -> pl.DataFrame:
    """Per customer: ``seasonal`` and ``season_start_month`` (1-12, null when not seasonal).

    A customer is seasonal when all their visits (at least ``min_visits``) fall in one window
    of ``season_months`` calendar months (wrapping December to January), and there is evidence
    that the window is a season rather than a short history: they came in that window in two
    different years' seasons, or the shop has a season there: at least
    ``min_season_customers`` such customers start in that window, and ``season_excess`` times
    as many as an even spread over the twelve possible windows would give, and the season has
    come round before for at least ``min_recurring`` of them (a cohort that joined and left
    together is not a season). ``visits`` has one row per customer-day (``_day``).
    """
    months = visits.select(
        customer,
        pl.col("_day").dt.month().alias("_month"),
        pl.col("_day").dt.year().alias("_year"),
    )
    windows = [
        (((pl.col("_month") - start) % 12) < season_months).all().alias(f"_s{start}")
        for start in range(1, 13)
    ]
    per_customer = months.group_by(customer).agg(pl.len().alias("_visits"), *windows)
    first_fit = pl.coalesce([pl.when(pl.col(f"_s{s}")).then(pl.lit(s)) for s in range(1, 13)])
    per_customer = per_customer.with_columns(
        pl.when(pl.col("_visits") >= min_visits).then(first_fit).cast(pl.Int8).alias("_start")
    )
    # Which year's season a visit belongs to: a December-February season starting in December
    # 2025 takes January 2026 with it.
    instances = (
        months.join(per_customer.select(customer, "_start"), on=customer)
        .drop_nulls("_start")
        .group_by(customer)
        .agg((pl.col("_year") - (pl.col("_month") < pl.col("_start"))).n_unique().alias("_years"))
    )
    per_customer = per_customer.join(instances, on=customer, how="left")
    counts = (
        per_customer.drop_nulls("_start")
        .group_by("_start")
        .agg(pl.len().alias("len"), (pl.col("_years") >= 2).sum().alias("recurring"))
    )
    total = int(counts["len"].sum()) if counts.height else 0
    floor = max(min_season_customers, season_excess * total / 12)
    shop_seasons = counts.filter((pl.col("len") >= floor) & (pl.col("recurring") >= min_recurring))[
        "_start"
    ].to_list()
    seasonal = pl.col("_start").is_not_null() & (
        (pl.col("_years") >= 2) | pl.col("_start").is_in(shop_seasons)
    )
    return per_customer.select(
        customer,
        seasonal.alias("seasonal"),
        pl.when(seasonal).then(pl.col("_start")).alias("season_start_month"),
    )


def lifecycle_status(
    frame: pl.DataFrame,
    *,
    lapsed_days: int = LAPSED_DAYS,
    lapsed_overdue_ratio: float = LAPSED_OVERDUE_RATIO,
    min_regular_visits: int = MIN_REGULAR_VISITS,
    new_days: int = NEW_DAYS,
) -> pl.Series:
    """The status of every row of ``frame``.

    Needs the columns ``visits``, ``days_since_last``, ``overdue_ratio``, ``broken_habit``,
    ``at_risk`` and ``seasonal`` (from :func:`seasonal_customers`) (nulls count as false or zero).
    """
    since = pl.col("days_since_last").fill_null(0)
    gone = since >= lapsed_days
    regular = pl.col("visits").fill_null(0) >= min_regular_visits
    seasonal = pl.col("seasonal").fill_null(False) & regular
    status = (
        pl.when(gone & regular & ~seasonal & (pl.col("overdue_ratio") >= lapsed_overdue_ratio))
        .then(pl.lit("lapsed"))
        .when(gone & seasonal)
        .then(pl.lit("seasonal"))
        .when(gone)
        .then(pl.lit("dormant"))
        .when(pl.col("broken_habit").fill_null(False))
        .then(pl.lit("broken_habit"))
        .when(pl.col("at_risk").fill_null(False))
        .then(pl.lit("at_risk"))
        .when((pl.col("visits") == 1) & (since < new_days))
        .then(pl.lit("new"))
        .otherwise(pl.lit("active"))
    )
    return frame.select(status.alias("status"))["status"]
