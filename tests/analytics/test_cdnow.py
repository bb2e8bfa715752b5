"""Every published CDNOW figure (see the shared data README), reproduced from the raw data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from dangol.analytics.betageo import BetaGeoModel, ModifiedBetaGeoModel
from dangol.analytics.gamma_gamma import GammaGammaModel
from dangol.analytics.pareto_nbd import ParetoNBDModel

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _rfm(summary):
    return summary["frequency"], summary["recency"], summary["T"]


@pytest.fixture(scope="module")
def bgnbd(cdnow_summary):
    return BetaGeoModel().fit(*_rfm(cdnow_summary))


@pytest.fixture(scope="module")
def published_bgnbd():
    return BetaGeoModel.from_dict({"model": "bgnbd", "params": PUBLISHED_BGNBD})


def test_bgnbd_parameters_and_log_likelihood(bgnbd, cdnow_published_summary):
    assert {k: round(v, 3) for k, v in bgnbd.params_.items()} == PUBLISHED_BGNBD
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert bgnbd.reliable_
    # Same fit from the published (rounded) summary file.
    again = BetaGeoModel().fit(*_rfm(cdnow_published_summary))
    assert {k: round(v, 3) for k, v in again.params_.items()} == PUBLISHED_BGNBD


def test_mbgnbd_parameters_and_log_likelihood(cdnow_summary):
    model = ModifiedBetaGeoModel().fit(*_rfm(cdnow_summary))
    published = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    assert {k: round(v, 3) for k, v in model.params_.items()} == published
    assert model.log_likelihood_ == pytest.approx(-9582.1, abs=0.05)


def test_bgnbd_spot_values(bgnbd, published_bgnbd):
    # The published curve was computed from unrounded estimates: compare with our own fit.
    expected = bgnbd.expected_number_of_purchases([1, 3, 32, 78])
    np.testing.assert_allclose(expected, [0.0532, 0.1506, 1.0437, 1.8576], rtol=2.5e-4, atol=5e-5)
    one = published_bgnbd.conditional_expected_number_of_purchases(39, 2, 30.43, 38.86)
    assert one[0] == pytest.approx(1.226, abs=5e-4)
    assert published_bgnbd.conditional_probability_alive(2, 30.43, 38.86)[0] == pytest.approx(
        0.727, abs=5e-4
    )
    assert published_bgnbd.probability_of_n_purchases(39, 0) == pytest.approx(0.5737864, abs=1e-7)


def test_bgnbd_holdout_totals(bgnbd, cdnow_summary):
    actual = cdnow_summary["holdout_frequency"].to_numpy()
    predicted = bgnbd.conditional_expected_number_of_purchases(39, *_rfm(cdnow_summary))
    assert actual.sum() == 1882
    assert predicted.sum() == pytest.approx(1653, abs=1)
    assert np.corrcoef(actual, predicted)[0, 1] == pytest.approx(0.626, abs=5e-4)
    zero = cdnow_summary["frequency"].to_numpy() == 0
    assert actual[zero].mean() == pytest.approx(0.237, abs=5e-4)
    assert predicted[zero].mean() == pytest.approx(0.225, abs=5e-4)


def test_pareto_nbd_parameters_log_likelihood_and_holdout(cdnow_summary):
    model = ParetoNBDModel().fit(*_rfm(cdnow_summary))
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    assert {k: round(v, 3) for k, v in model.params_.items()} == published
    assert model.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    actual = cdnow_summary["holdout_frequency"].to_numpy()
    predicted = model.conditional_expected_number_of_purchases(39, *_rfm(cdnow_summary))
    assert predicted.sum() == pytest.approx(1666, abs=1)
    assert np.corrcoef(actual, predicted)[0, 1] == pytest.approx(0.630, abs=5e-4)


def test_gamma_gamma_parameters_and_spot_values(cdnow_summary):
    model = GammaGammaModel().fit(cdnow_summary["frequency"], cdnow_summary["monetary_value"])
    assert model.n_customers_ == 946
    assert {k: round(v, 2) for k, v in model.params_.items()} == {
        "p": 6.25,
        "q": 3.74,
        "gamma": 15.44,
    }
    assert model.log_likelihood_ == pytest.approx(-4055.9, abs=0.05)
    first_ten = cdnow_summary.sort("customer_id").head(10)
    spend = model.conditional_expected_average_profit(
        first_ten["frequency"], first_ten["monetary_value"]
    )
    published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    np.testing.assert_allclose(spend, published, atol=0.006)


def test_churn_style_baselines(bgnbd, cdnow_summary):
    active = (cdnow_summary["holdout_frequency"] > 0).to_numpy()
    weeks_since = (cdnow_summary["T"] - cdnow_summary["recency"]).to_numpy()
    assert roc_auc_score(active, -weeks_since) == pytest.approx(0.771, abs=5e-4)
    p_buy = bgnbd.probability_of_purchase(39, *_rfm(cdnow_summary))
    assert roc_auc_score(active, p_buy) == pytest.approx(0.757, abs=5e-4)
    p_alive = bgnbd.conditional_probability_alive(*_rfm(cdnow_summary))
    assert roc_auc_score(active, p_alive) == pytest.approx(0.32, abs=5e-3)
