"""Churn model: CDNOW target, backtest report, small-shop fallback and metrics."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from dangol.analytics.churn import (
    ChurnModel,
    expected_calibration_error,
    rule_based_churn,
    top_decile_lift,
)
from dangol.analytics.summary import summarize

CAL, HOLD = "1997-12-31", "1998-06-30"
COLUMNS = {"customer": "customer_id", "at": "date", "amount": "amount"}


@pytest.fixture(scope="module")
def week52(cdnow_transactions):
    model = ChurnModel().fit(cdnow_transactions, **COLUMNS, cutoff=CAL)
    scored = model.predict(cdnow_transactions, **COLUMNS, cutoff=CAL)
    summary = summarize(cdnow_transactions, **COLUMNS, calibration_end=CAL, holdout_end=HOLD)
    joined = summary.join(scored, on="customer_id", how="left")
    return model, joined


def test_cdnow_week_52_beats_recency_and_reaches_target(week52):
    _, joined = week52
    active = (joined["holdout_frequency"] > 0).to_numpy()
    churn = joined["churn_probability"].to_numpy()
    assert not np.isnan(churn).any()
    model_auc = roc_auc_score(active, -churn)
    recency_auc = roc_auc_score(active, -joined["days_since_last"].to_numpy())
    assert model_auc >= 0.80
    assert model_auc >= recency_auc


def test_backtest_report(week52):
    model, joined = week52
    report = model.backtest_
    assert not model.not_enough_data_
    assert model.chosen_ in {"logistic_regression", "gradient_boosting"}
    assert report["chosen"] == model.chosen_
    assert set(report["candidates"]) == {"logistic_regression", "gradient_boosting"}
    assert 0.5 < report["auc"] <= 1 and report["top_decile_lift"] >= 1
    assert 0 <= report["ece"] < 0.1
    assert set(report["baselines"]) == {"days_since_last", "bgnbd"}
    # Calibrated: the mean predicted churn is close to the churn rate seen in training.
    assert joined["churn_probability"].mean() == pytest.approx(report["churn_rate"], abs=0.1)


def _tiny_shop(n_customers):
    rng = np.random.default_rng(n_customers)
    rows = []
    for c in range(n_customers):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 60)))
        for k in range(int(rng.integers(1, 8))):
            day = start + dt.timedelta(days=int(7 * k + rng.integers(0, 3)))
            rows.append({"c": f"k{c}", "at": day, "won": float(rng.integers(3, 20) * 1000)})
    return pl.DataFrame(rows)


@pytest.mark.parametrize("n_customers", [1, 5, 30])
def test_small_shops_get_a_rule_never_nan(n_customers):
    tx = _tiny_shop(n_customers)
    model = ChurnModel().fit(tx, customer="c", at="at", amount="won", cutoff="2024-05-01")
    scored = model.predict(tx, customer="c", at="at", amount="won", cutoff="2024-05-01")
    assert model.not_enough_data_ and model.chosen_ == "rule"
    assert scored.height == n_customers
    assert scored["not_enough_data"].all()
    p = scored["churn_probability"].to_numpy()
    assert np.all(np.isfinite(p)) and np.all((p > 0) & (p < 1))


def test_rule_is_monotone_in_overdue_ratio():
    frame = pl.DataFrame({"overdue_ratio": [0.0, 1.0, 1.5, 3.0]})
    p = rule_based_churn(frame)
    assert np.all(np.diff(p) > 0)
    assert p[2] == pytest.approx(0.5)


def test_metrics():
    labels = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    scores = np.linspace(1, 0, 10)
    assert top_decile_lift(labels, scores) == pytest.approx(1 / 0.2)
    assert expected_calibration_error(labels.astype(float), labels.astype(float)) == 0.0
    assert expected_calibration_error(np.zeros(4), np.full(4, 0.25)) == pytest.approx(0.25)
