"""Every score the product shows an owner, for every customer, from one transaction frame.

``score_customers`` runs the whole chain (summary, BG/NBD and Gamma-Gamma with CLV, RFM,
personal cadence, the backtested churn model, seasonality, lifecycle status, reasons) and
returns one row per customer plus the fitted models as JSON-ready dicts, so that a caller with
a database only has to load transactions and write rows back.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from .betageo import BetaGeoModel
from .cadence import WEEKDAYS_EN, WEEKDAYS_KO, cadence, cadence_of_visits, visits
from .churn import ChurnModel
from .clv import DEFAULT_MONTHLY_DISCOUNT, DEFAULT_MONTHS, customer_lifetime_value
from .features import customer_day_table, features_of_days
from .gamma_gamma import GammaGammaModel
from .lifecycle import STATUSES, WINNABLE, lifecycle_status, seasonal_customers
from .reasons import explain
from .rfm import rfm_scores
from .summary import as_date, summarize, summarize_days

EXPECTED_VISITS_DAYS = 90
VALUE_AT_RISK_DAYS = 90
MIN_SPEND_CUSTOMERS = 10  # Gamma-Gamma needs a handful of repeat buyers with spend
STAGES = ("summary", "models", "rfm", "cadence", "churn", "reasons")

Progress = Callable[[str], None]


@dataclass
class Scorecard:
    """``customers``: one row per customer (columns in ``SCORE_COLUMNS``).

    ``models``: JSON-ready fitted parameters and the churn backtest.
    """

    customers: pl.DataFrame
    models: dict[str, Any] = field(default_factory=dict)


SCORE_COLUMNS = (
    "visits",
    "first_visit",
    "last_visit",
    "days_since_last",
    "total_spend",
    "spend_per_visit",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "p_alive",
    "expected_visits_90d",
    "clv",
    "churn_probability",
    "typical_gap_days",
    "overdue_ratio",
    "expected_next_visit",
    "habit_weekday",
    "habit_hour",
    "broken_habit",
    "seasonal",
    "season_start_month",
    "status",
    "value_at_risk",
    "reasons_ko",
    "reasons_en",
    "reason_keys",
    "action_ko",
    "action_en",
)


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _spend_model(summary: pl.DataFrame) -> GammaGammaModel | None:
    repeat = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))
    if repeat.height < MIN_SPEND_CUSTOMERS:
        return None
    return GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"])


def _value_columns(
    summary: pl.DataFrame, purchase_model: BetaGeoModel, spend: GammaGammaModel | None
) -> pl.DataFrame:
    rfm = (summary["frequency"], summary["recency"], summary["T"])
    expected = purchase_model.conditional_expected_number_of_purchases(EXPECTED_VISITS_DAYS, *rfm)
    if spend is not None:
        clv = customer_lifetime_value(
            purchase_model=purchase_model,
            spend_model=spend,
            frequency=summary["frequency"],
            recency=summary["recency"],
            T=summary["T"],
            monetary_value=summary["monetary_value"],
            unit="D",
        )
    else:
        # Too few repeat buyers to fit spend: value expected visits at the shop's mean ticket.
        per_visit = summary["total_spend"].sum() / max(1, (summary["frequency"] + 1).sum())
        monthly = [
            purchase_model.conditional_expected_number_of_purchases(m * 365.25 / 12, *rfm)
            for m in range(DEFAULT_MONTHS + 1)
        ]
        clv = sum(
            (monthly[m] - monthly[m - 1]) / (1 + DEFAULT_MONTHLY_DISCOUNT) ** m
            for m in range(1, DEFAULT_MONTHS + 1)
        ) * float(per_visit)
    return pl.DataFrame(
        {
            "p_alive": np.nan_to_num(purchase_model.conditional_probability_alive(*rfm), nan=0.0),
            "expected_visits_90d": np.nan_to_num(expected, nan=0.0),
            "clv": np.nan_to_num(np.asarray(clv, dtype=np.float64), nan=0.0),
        }
    )


def _season_reason(month: int | None) -> tuple[str, str]:
    if month is None:
        return "", ""
    months = [((month - 1 + k) % 12) + 1 for k in range(3)]
    names_en = [dt.date(2000, m, 1).strftime("%B") for m in months]
    return (
        f"{months[0]}~{months[-1]}월에만 오시는 계절 손님이에요",
        f"Comes only in {names_en[0]}–{names_en[-1]}",
    )


_REASON_INPUTS = (
    "churn_probability",
    "days_since_last",
    "typical_gap_days",
    "frequency",
    "overdue_ratio",
    "trend_90",
    "visits_before_90",
    "bgnbd_p_alive",
    "broken_habit",
    "total_spend",
)


def _with_reasons(frame: pl.DataFrame, rhythm: pl.DataFrame, customer: str) -> pl.DataFrame:
    needs = frame.filter(pl.col("status").is_in(["lapsed", "dormant", *WINNABLE])).select(
        customer, *_REASON_INPUTS
    )
    explained = explain(needs, customer=customer, rhythm=rhythm, only_at_risk=False).drop(
        "churn_probability"
    )
    out = frame.join(explained, on=customer, how="left")
    # Season sentences for the (few) seasonal customers only, joined back by customer.
    season = out.filter(pl.col("status") == "seasonal").select(customer, "season_start_month")
    pairs = [_season_reason(m) for m in season["season_start_month"].to_list()]
    season = pl.DataFrame(
        {
            customer: season[customer],
            "_season_ko": pl.Series([[p[0]] for p in pairs], dtype=pl.List(pl.String)),
            "_season_en": pl.Series([[p[1]] for p in pairs], dtype=pl.List(pl.String)),
        }
    )
    out = out.join(season, on=customer, how="left", maintain_order="left")
    action = ("다음 시즌이 시작되기 전에 소식을 알려 드리세요.", "Let them know before the season.")
    return out.drop("_season_ko", "_season_en").with_columns(
        pl.coalesce(pl.col("reasons_ko"), out["_season_ko"]),
        pl.coalesce(pl.col("reasons_en"), out["_season_en"]),
        pl.when(pl.col("status") == "seasonal")
        .then(pl.lit(["seasonal"]))
        .otherwise(pl.col("reason_keys"))
        .alias("reason_keys"),
        pl.when(pl.col("status") == "seasonal")
        .then(pl.lit(action[0]))
        .otherwise(pl.col("action_ko"))
        .alias("action_ko"),
        pl.when(pl.col("status") == "seasonal")
        .then(pl.lit(action[1]))
        .otherwise(pl.col("action_en"))
        .alias("action_en"),
    )


def score_customers(
    transactions: pl.DataFrame,
    *,
    customer: str,
    at: str,
    amount: str,
    asof: dt.date | dt.datetime | str,
    churn: ChurnModel | None = None,
    progress: Progress | None = None,
) -> Scorecard:
    """Score every customer with a purchase on or before the end of day ``asof``.

    ``at`` must be local wall-clock time (weekday and hour habits are read from it). Never
    raises for small or odd shops: with fewer than the churn model's minimum customers the
    churn score is the transparent rule and ``models["churn"]["not_enough_data"]`` is true.
    """
    step = progress or (lambda _stage: None)
    day = as_date(asof)
    step("summary")
    # Dates and datetimes: one customer-day table feeds the summary, the cadence, the seasons
    # and the churn model (training and today's features), instead of each sorting every line.
    # Text times are parsed differently by the summary and the cadence, so they keep theirs.
    days = None
    if transactions.schema[at] != pl.String:
        days = customer_day_table(transactions, customer=customer, at=at, amount=amount, asof=day)
        summary = summarize_days(days, customer=customer, calibration_end=day, unit="D")
    else:
        summary = summarize(
            transactions, customer=customer, at=at, amount=amount, calibration_end=day, unit="D"
        )
    if summary.height == 0:
        return Scorecard(pl.DataFrame(schema={customer: transactions.schema[customer]}), {})
    step("models")
    purchase_model = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    spend = _spend_model(summary)
    values = _value_columns(summary, purchase_model, spend)
    step("rfm")
    rfm = rfm_scores(summary).select(
        customer, "r_score", "f_score", "m_score", pl.col("segment").alias("rfm_segment")
    )
    step("cadence")
    if days is not None:
        rhythm = cadence_of_visits(days.drop("_value"), customer=customer, asof=day)
        seasons = seasonal_customers(days, customer=customer)
    else:
        rhythm = cadence(transactions, customer=customer, at=at, asof=day)
        seasons = seasonal_customers(
            visits(transactions, customer=customer, at=at, asof=day), customer=customer
        )
    step("churn")
    model = (churn or ChurnModel()).fit(
        transactions, customer=customer, at=at, amount=amount, cutoff=day, days=days
    )
    features = None
    if days is not None:
        # The summary, cadence and BG/NBD fit above are the features' own at this cut-off.
        features = features_of_days(
            days,
            customer=customer,
            cutoff=day,
            horizon_days=model.training_horizon_days_,
            summary=summary,
            rhythm=rhythm,
            purchase_model=purchase_model,
        )
    scored = model.predict(
        transactions, customer=customer, at=at, amount=amount, cutoff=day, features=features
    )
    frame = (
        summary.select(customer)
        .hstack(values)
        .join(rfm, on=customer, how="left")
        .join(
            scored.select(
                customer,
                "churn_probability",
                "at_risk",
                "spend_per_visit",
                "total_spend",
                "frequency",
                "trend_90",
                "visits_before_90",
                "bgnbd_p_alive",
            ),
            on=customer,
            how="left",
        )
        .join(
            rhythm.select(
                customer,
                "visits",
                "first_visit",
                "last_visit",
                "days_since_last",
                "typical_gap_days",
                "overdue_ratio",
                "expected_next_visit",
                "habit_weekday",
                "habit_hour",
                "broken_habit",
            ),
            on=customer,
            how="left",
        )
        .join(seasons, on=customer, how="left")
    )
    frame = frame.with_columns(lifecycle_status(frame))
    # What a winnable customer would spend in 90 days at their own pace, times the risk.
    gap = pl.col("typical_gap_days").fill_null(scored["days_since_last"].median() or 30.0)
    usual = pl.col("spend_per_visit") * (VALUE_AT_RISK_DAYS / gap.clip(lower_bound=1.0))
    frame = frame.with_columns(
        pl.when(pl.col("status").is_in(WINNABLE))
        .then(usual * pl.col("churn_probability"))
        .otherwise(0.0)
        .alias("value_at_risk"),
    )
    step("reasons")
    frame = _with_reasons(frame, rhythm, customer)
    models = {
        "asof": day.isoformat(),
        "customers": summary.height,
        "bgnbd": purchase_model.to_dict(),
        "gamma_gamma": spend.to_dict() if spend is not None else None,
        "churn": {
            "chosen": model.chosen_,
            "not_enough_data": bool(model.not_enough_data_),
            "horizon_days": int(model.training_horizon_days_),
            "backtest": model.backtest_,
        },
        "statuses": {key: int((frame["status"] == key).sum()) for key in STATUSES},
    }
    return Scorecard(frame.select(customer, *SCORE_COLUMNS), models)


__all__ = ["SCORE_COLUMNS", "STAGES", "WEEKDAYS_EN", "WEEKDAYS_KO", "Scorecard", "score_customers"]
