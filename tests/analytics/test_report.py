"""End-to-end analysis of the CDNOW cohort as ``dangol analyze`` runs it."""

from __future__ import annotations

import json

import polars as pl
import pytest

from dangol.analytics.report import analyze


@pytest.fixture(scope="module")
def result(cdnow_transactions):
    return analyze(
        cdnow_transactions,
        customer="customer_id",
        at="date",
        amount="amount",
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
        unit="W",
    )


def test_result_is_plain_json(result):
    assert json.loads(json.dumps(result)) == result


def test_model_figures(result):
    assert result["customers"] == 2357
    assert result["repeat_customers"] == 946
    bg = result["bgnbd"]
    assert (round(bg["r"], 3), round(bg["alpha"], 3), round(bg["a"], 3), round(bg["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert bg["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert result["mbgnbd"]["log_likelihood"] == pytest.approx(-9582.1, abs=0.05)
    pareto = result["pareto_nbd"]
    assert round(pareto["s"], 3) == 0.606
    assert pareto["log_likelihood"] == pytest.approx(-9595.0, abs=0.05)
    gg = result["gamma_gamma"]
    assert (round(gg["p"], 2), round(gg["q"], 2), round(gg["gamma"], 2)) == (6.25, 3.74, 15.44)
    assert gg["log_likelihood"] == pytest.approx(-4055.9, abs=0.05)


def test_holdout_figures(result):
    holdout = result["holdout"]
    assert holdout["actual_total"] == 1882
    assert holdout["bgnbd_predicted_total"] == pytest.approx(1653, abs=1)
    assert holdout["pareto_predicted_total"] == pytest.approx(1666, abs=1)
    assert holdout["bgnbd_correlation"] == pytest.approx(0.626, abs=5e-4)
    auc = holdout["churn_auc"]
    assert auc["recency"] == pytest.approx(0.771, abs=5e-4)
    assert auc["bgnbd"] == pytest.approx(0.757, abs=5e-4)
    # Trained on calibration data only, the churn score ranks about as well as recency here.
    assert auc["model"] > 0.75


def test_days_without_holdout_or_amounts():
    tx = pl.DataFrame(
        {
            "c": [1, 1, 2, 3, 3, 3],
            "d": [
                "2024-01-01",
                "2024-01-09",
                "2024-01-03",
                "2024-01-02",
                "2024-01-05",
                "2024-01-20",
            ],
        }
    )
    out = analyze(tx, customer="c", at="d", calibration_end="2024-01-31", unit="D")
    assert out["customers"] == 3 and "holdout" not in out
    assert out["gamma_gamma"] is None
    assert out["bgnbd"]["reliable"] is False
    json.dumps(out)
