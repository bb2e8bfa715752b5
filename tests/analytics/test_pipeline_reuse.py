"""The scorecard's shared customer-day table gives what each step computes on its own."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dangol.analytics.betageo import BetaGeoModel
from dangol.analytics.cadence import cadence, cadence_of_visits
from dangol.analytics.churn import ChurnModel
from dangol.analytics.features import customer_day_table, customer_features, features_of_days
from dangol.analytics.scorecard import score_customers
from dangol.analytics.summary import summarize, summarize_days

ASOF = dt.date(2025, 6, 30)
KEYS = {"customer": "c", "at": "at", "amount": "won"}


@pytest.fixture(scope="module")
def shop() -> pl.DataFrame:
    """600 customers over a year: some weekly regulars, some random, many who stop."""
    rng = np.random.default_rng(3)
    rows = []
    start = ASOF - dt.timedelta(days=365)
    for c in range(600):
        join = int(rng.integers(0, 330))
        stop = min(365, join + int(rng.exponential(200)))
        weekly = rng.random() < 0.3
        days = (
            range(join, stop, 7)
            if weekly
            else sorted(set(rng.integers(join, stop + 1, 1 + rng.poisson(6))))
        )
        for d in days:
            for _ in range(1 + (rng.random() < 0.1)):
                at = dt.datetime.combine(start + dt.timedelta(days=int(d)), dt.time(9))
                at += dt.timedelta(minutes=int(rng.integers(0, 600)))
                rows.append((f"k{c:04d}", at, float(rng.integers(3, 30) * 1000)))
    return pl.DataFrame(rows, schema=["c", "at", "won"], orient="row")


@pytest.fixture(scope="module")
def plain(shop) -> ChurnModel:
    return ChurnModel().fit(shop, **KEYS, cutoff=ASOF)


def test_features_from_prepared_pieces_equal_features_from_transactions(shop):
    days = customer_day_table(shop, **KEYS, asof=ASOF)
    summary = summarize_days(days, customer="c", calibration_end=ASOF, unit="D")
    assert_frame_equal(summary, summarize(shop, **KEYS, calibration_end=ASOF, unit="D"))
    rhythm = cadence_of_visits(days.drop("_value"), customer="c", asof=ASOF)
    assert_frame_equal(rhythm, cadence(shop, customer="c", at="at", asof=ASOF))
    model = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
    prepared = features_of_days(
        days,
        customer="c",
        cutoff=ASOF,
        horizon_days=45,
        summary=summary,
        rhythm=rhythm,
        purchase_model=model,
    )
    direct = customer_features(shop, **KEYS, cutoff=ASOF, horizon_days=45)
    assert_frame_equal(prepared, direct)
    assert_frame_equal(features_of_days(days, customer="c", cutoff=ASOF, horizon_days=45), direct)


def test_churn_model_with_prepared_days_and_features_is_the_same_model(shop, plain):
    days = customer_day_table(shop, **KEYS, asof=ASOF)
    prepared = ChurnModel().fit(shop, **KEYS, cutoff=ASOF, days=days)
    assert not plain.not_enough_data_
    assert prepared.backtest_ == plain.backtest_
    features = customer_features(
        shop, **KEYS, cutoff=ASOF, horizon_days=prepared.training_horizon_days_
    )
    assert_frame_equal(
        prepared.predict(shop, **KEYS, cutoff=ASOF, features=features),
        plain.predict(shop, **KEYS, cutoff=ASOF),
    )


def test_scorecard_scores_equal_the_steps_run_on_their_own(shop, plain):
    card = score_customers(shop, **KEYS, asof=ASOF).customers.sort("c")
    scored = plain.predict(shop, **KEYS, cutoff=ASOF)
    assert_frame_equal(
        card.select("c", "churn_probability"), scored.select("c", "churn_probability").sort("c")
    )
    rhythm = cadence(shop, customer="c", at="at", asof=ASOF)
    columns = ["c", "visits", "days_since_last", "typical_gap_days", "broken_habit"]
    assert_frame_equal(card.select(columns), rhythm.select(columns))
