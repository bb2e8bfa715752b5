"""Per-customer features at a cut-off date, for the churn model and the plain-language reasons.

Everything is measured in days from transactions on or before the cut-off, so the same function
builds training rows (at earlier cut-offs) and scoring rows (at today's).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from .betageo import BetaGeoModel
from .cadence import cadence, cadence_of_visits
from .summary import as_date, customer_days, occasions, summarize, summarize_days

FEATURES = (
    "frequency",
    "recency_days",
    "age_days",
    "days_since_last",
    "visits_per_month",
    "typical_gap_days",
    "overdue_ratio",
    "habit_weekday_share",
    "broken_habit",
    "visits_30",
    "visits_90",
    "visits_before_90",
    "trend_90",
    "total_spend",
    "spend_per_visit",
    "spend_90",
    "bgnbd_p_alive",
    "bgnbd_p_purchase",
    "bgnbd_expected",
)


def customer_features(
    transactions: pl.DataFrame,
    *,
    customer: str,
    at: str,
    amount: str | None = None,
    cutoff: dt.date | dt.datetime | str,
    horizon_days: int = 60,
) -> pl.DataFrame:
    """One row per customer seen on or before ``cutoff`` with the columns in ``FEATURES``.

    ``trend_90`` compares the visit rate of the last 90 days with the rate before (1 = steady,
    0.5 = halved; customers younger than 90 days get 1). BG/NBD is fitted on the day-unit summary
    at the cut-off and contributes P(alive), P(a purchase within ``horizon_days``) and the
    expected number of purchases in that window.
    """
    day = as_date(cutoff)
    if transactions.schema[at] == pl.String:
        # Text times: summaries and cadence parse them differently, so each reads its own.
        summary = summarize(
            transactions, customer=customer, at=at, amount=amount, calibration_end=day, unit="D"
        )
        rhythm = cadence(transactions, customer=customer, at=at, asof=day)
        days = occasions(transactions, customer=customer, at=at, amount=amount).filter(
            pl.col("_day") <= day
        )
        return features_of_days(
            days,
            customer=customer,
            cutoff=day,
            horizon_days=horizon_days,
            summary=summary,
            rhythm=rhythm,
        )
    # One customer-day table (value and first hour) feeds the summary, the visit windows and
    # the cadence: one pass over the transactions instead of three.
    days = customer_day_table(transactions, customer=customer, at=at, amount=amount, asof=day)
    return features_of_days(days, customer=customer, cutoff=day, horizon_days=horizon_days)


def features_of_days(
    days: pl.DataFrame,
    *,
    customer: str,
    cutoff: dt.date,
    horizon_days: int = 60,
    summary: pl.DataFrame | None = None,
    rhythm: pl.DataFrame | None = None,
    purchase_model: BetaGeoModel | None = None,
) -> pl.DataFrame:
    """:func:`customer_features` from a :func:`customer_day_table` cut at ``cutoff``.

    Pieces a caller has already computed at the same cut-off can be passed in instead of being
    recomputed: ``summary`` (``summarize_days(days, ..., unit="D")``), ``rhythm``
    (``cadence_of_visits`` of the same days) and ``purchase_model`` (BG/NBD fitted on that
    summary's frequency, recency and T). The result is the same either way.
    """
    day = cutoff
    days = days.filter(pl.col("_day") <= day)
    if summary is None:
        summary = summarize_days(days, customer=customer, calibration_end=day, unit="D")
    if summary.height == 0:
        return pl.DataFrame(
            schema={customer: days.schema[customer], **dict.fromkeys(FEATURES, pl.Float64)}
        )
    if rhythm is None:
        rhythm = cadence_of_visits(
            days.drop("_value") if "_hour" in days.columns else _no_hours(days),
            customer=customer,
            asof=day,
        )
    age = (pl.lit(day) - pl.col("_day")).dt.total_days()
    windows = days.group_by(customer).agg(
        (age < 30).sum().alias("visits_30"),
        (age < 90).sum().alias("visits_90"),
        (age >= 90).sum().alias("visits_before_90"),
        pl.col("_value").filter(age < 90).sum().alias("spend_90"),
    )
    shop_gap = rhythm["typical_gap_days"].median()
    fallback_gap = float(shop_gap) if shop_gap is not None else float(horizon_days)

    frame = (
        summary.join(windows, on=customer, how="left")
        .join(
            rhythm.select(customer, "typical_gap_days", "habit_weekday_share", "broken_habit"),
            on=customer,
            how="left",
        )
        .with_columns(
            pl.col("recency").alias("recency_days"),
            pl.col("T").alias("age_days"),
            (pl.col("T") - pl.col("recency")).alias("days_since_last"),
            ((pl.col("frequency") + 1) / ((pl.col("T") + 1) / 30.4375)).alias("visits_per_month"),
            # One-visit customers have no gap of their own: the shop's typical gap stands in.
            pl.col("typical_gap_days").fill_null(fallback_gap),
            (pl.col("total_spend") / (pl.col("frequency") + 1)).alias("spend_per_visit"),
            pl.col("broken_habit").cast(pl.Float64),
        )
        .with_columns(
            (pl.col("days_since_last") / pl.col("typical_gap_days").clip(lower_bound=1.0)).alias(
                "overdue_ratio"
            ),
            pl.when(pl.col("age_days") >= 120)
            .then(
                (pl.col("visits_90") / 90.0 + 0.5 / 90.0)
                / (pl.col("visits_before_90") / (pl.col("age_days") - 89.0) + 0.5 / 90.0)
            )
            .otherwise(1.0)
            .alias("trend_90"),
        )
    )
    rfm = (summary["frequency"], summary["recency"], summary["T"])
    model = BetaGeoModel().fit(*rfm) if purchase_model is None else purchase_model
    frame = frame.with_columns(
        pl.Series("bgnbd_p_alive", model.conditional_probability_alive(*rfm)),
        pl.Series("bgnbd_p_purchase", model.probability_of_purchase(horizon_days, *rfm)),
        pl.Series(
            "bgnbd_expected", model.conditional_expected_number_of_purchases(horizon_days, *rfm)
        ),
    )
    out = frame.select(customer, *(pl.col(f).cast(pl.Float64) for f in FEATURES))
    # No NaN downstream: anything undefined becomes a neutral 0.
    return out.with_columns(pl.col(f).fill_null(0.0).fill_nan(0.0) for f in FEATURES)


def _no_hours(days: pl.DataFrame) -> pl.DataFrame:
    return days.select(pl.exclude("_value")).with_columns(pl.lit(None, pl.Int32).alias("_hour"))


def customer_day_table(
    transactions: pl.DataFrame,
    *,
    customer: str,
    at: str,
    amount: str | None = None,
    asof: dt.date | None = None,
) -> pl.DataFrame:
    """``occasions`` and ``visits`` in one table: ``_day``, ``_value`` and ``_hour``.

    Sorted by customer then day, up to the end of day ``asof``; ``at`` is a date or datetime
    column (text times are parsed differently by the summaries and the cadence, so they are
    not read here). :func:`summarize_days`, :func:`cadence_of_visits` (without ``_value``) and
    :func:`features_of_days` all read it.
    """
    col = pl.col(at)
    has_time = transactions.schema[at] == pl.Datetime
    value = pl.col(amount).cast(pl.Float64).fill_null(0.0) if amount else pl.lit(0.0)
    return customer_days(
        transactions,
        customer=customer,
        day=col.dt.date() if has_time else col,
        value=value,
        hour=col.dt.hour() if has_time else pl.lit(None, pl.Int32),
        asof=asof,
    )


def feature_matrix(frame: pl.DataFrame) -> np.ndarray:
    return frame.select(FEATURES).to_numpy().astype(np.float64)
