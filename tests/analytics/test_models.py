"""Customer-base models: recovery from simulated data, numerical edge cases, JSON round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gammaln

from dangol.analytics.betageo import BetaGeoModel, ModifiedBetaGeoModel
from dangol.analytics.clv import customer_lifetime_value
from dangol.analytics.gamma_gamma import GammaGammaModel
from dangol.analytics.pareto_nbd import ParetoNBDModel
from dangol.analytics.simulate import (
    simulate_betageo,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
)

N = 50_000
TRANSACTION_MODELS = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel]


def _rfm(frame):
    return frame["frequency"], frame["recency"], frame["T"]


def _assert_recovered(model, truth, *, rel=0.1):
    for name, value in truth.items():
        estimate, error = model.params_[name], model.standard_errors_[name]
        assert math.isfinite(error)
        # Within 4 standard errors and, as a sanity bound, within `rel` of the truth.
        assert abs(estimate - value) < 4 * error, (name, estimate, value, error)
        assert estimate == pytest.approx(value, rel=rel), name


@pytest.mark.parametrize("modified", [False, True])
def test_betageo_recovers_parameters(modified):
    truth = {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 2.5}
    data = simulate_betageo(**truth, n=N, T=(20.0, 80.0), modified=modified, seed=7)
    model = (ModifiedBetaGeoModel if modified else BetaGeoModel)().fit(*_rfm(data))
    assert model.reliable_
    _assert_recovered(model, truth, rel=0.15)


def test_pareto_nbd_recovers_parameters():
    truth = {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}
    data = simulate_pareto_nbd(**truth, n=N, T=(30.0, 80.0), seed=11)
    model = ParetoNBDModel().fit(*_rfm(data))
    _assert_recovered(model, truth, rel=0.25)


def test_gamma_gamma_recovers_parameters():
    rng = np.random.default_rng(3)
    frequency = rng.poisson(3.0, size=N)
    truth = {"p": 6.0, "q": 3.8, "gamma": 15.0}
    spend = simulate_gamma_gamma(**truth, frequency=frequency, seed=5)
    model = GammaGammaModel().fit(frequency, spend)
    _assert_recovered(model, truth, rel=0.15)


def test_simulated_counts_match_unconditional_expectation():
    truth = {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 2.5}
    data = simulate_betageo(**truth, n=N, T=30.0, seed=1)
    model = BetaGeoModel.from_dict({"model": "bgnbd", "params": truth})
    assert data["frequency"].mean() == pytest.approx(
        model.expected_number_of_purchases(30)[0], rel=0.03
    )


def _pareto_ll_by_quadrature(params, x, t_x, age):
    r, alpha, s, beta = params
    lead = gammaln(r + x) - gammaln(r) + r * math.log(alpha) + s * math.log(beta)

    def log_density(u):  # log of the integrand, the "died at u" part of the likelihood
        return math.log(s) - (r + x) * math.log(alpha + u) - (s + 1) * math.log(beta + u)

    # Everything is scaled by the integrand's peak at t_x so that nothing underflows.
    peak = log_density(t_x)
    alive = -(r + x) * math.log(alpha + age) - s * math.log(beta + age) - peak
    dead, _ = quad(
        lambda u: math.exp(log_density(u) - peak), t_x, age, epsabs=0, epsrel=1e-12, limit=200
    )
    return lead + peak + math.log(math.exp(alive) + dead)


@pytest.mark.parametrize(
    ("params", "row"),
    [
        ((0.55, 10.6, 0.61, 11.7), (2, 30.43, 38.86)),
        ((0.55, 10.6, 0.61, 11.7), (0, 0.0, 38.86)),
        ((0.55, 10.6, 0.61, 11.7), (5, 38.86, 38.86)),
        ((0.55, 20.0, 0.61, 2.0), (7, 10.0, 60.0)),
        ((2.0, 1.0, 3.0, 30.0), (12, 20.0, 52.0)),
        ((2.0, 1.0, 3.0, 30.0), (250, 51.9, 52.0)),
        ((0.3, 50.0, 0.2, 0.5), (300, 40.0, 78.0)),
        # Where scipy's 2F1 returns NaN and direct integration takes over.
        ((1.45, 6.95, 226.0, 9477.0), (0, 0.0, 20.0)),
        ((1.45, 6.95, 226.0, 9477.0), (2, 5.0, 20.0)),
    ],
)
def test_pareto_nbd_likelihood_matches_direct_integration(params, row):
    model = ParetoNBDModel()
    got = model._log_likelihood_rows(np.array(params), *(np.array([v], float) for v in row))[0]
    assert got == pytest.approx(_pareto_ll_by_quadrature(params, *row), abs=1e-8)


@pytest.mark.parametrize("model_class", TRANSACTION_MODELS)
def test_extreme_rows_stay_finite(model_class):
    x = np.array([0, 0, 1, 3, 200, 250, 1000, 5], float)
    t_x = np.array([0, 0, 10.0, 52.0, 51.9, 52.0, 52.0, 0.1], float)
    age = np.array([52.0, 0.5, 52.0, 52.0, 52.0, 52.0, 52.0, 52.0])
    params = {
        "bgnbd": (0.24, 4.4, 0.79, 2.4),
        "mbgnbd": (0.52, 6.2, 0.89, 1.6),
        "pareto_nbd": (0.55, 10.6, 0.61, 11.7),
    }[model_class.kind]
    model = model_class.from_dict(
        {
            "model": model_class.kind,
            "params": dict(zip(model_class.param_names, params, strict=True)),
        }
    )
    for values in (
        model.log_likelihood_rows(x, t_x, age),
        model.conditional_probability_alive(x, t_x, age),
        model.conditional_expected_number_of_purchases(39, x, t_x, age),
        model.probability_of_purchase(39, x, t_x, age),
    ):
        assert np.all(np.isfinite(values))
    alive = model.conditional_probability_alive(x, t_x, age)
    assert np.all((alive >= 0) & (alive <= 1))
    # A heavy buyer seen at the very end is surely alive and expected to keep buying a lot.
    assert alive[5] > 0.99
    assert model.conditional_expected_number_of_purchases(39, x, t_x, age)[6] > 300


@pytest.mark.parametrize("model_class", TRANSACTION_MODELS)
@pytest.mark.parametrize("shop_size", [5, 30])
def test_tiny_shops_fit_without_nan_and_are_flagged(model_class, shop_size):
    rng = np.random.default_rng(shop_size)
    age = rng.uniform(4, 52, shop_size)
    x = rng.poisson(3, shop_size).astype(float)
    t_x = np.where(x > 0, age * rng.uniform(0.2, 1.0, shop_size), 0.0)
    model = model_class().fit(x, t_x, age)
    assert not model.reliable_
    assert model.warnings_
    assert all(math.isfinite(v) for v in model.params_.values())
    assert math.isfinite(model.log_likelihood_)
    assert np.all(np.isfinite(model.conditional_expected_number_of_purchases(4, x, t_x, age)))
    json.dumps(model.to_dict())


@pytest.mark.parametrize("model_class", TRANSACTION_MODELS)
def test_nobody_came_back(model_class):
    age = np.linspace(1, 40, 60)
    model = model_class().fit(np.zeros(60), np.zeros(60), age)
    assert math.isfinite(model.log_likelihood_)
    assert np.all(np.isfinite(model.probability_of_purchase(4, np.zeros(60), np.zeros(60), age)))


@pytest.mark.parametrize("model_class", [*TRANSACTION_MODELS, GammaGammaModel])
def test_json_round_trip(model_class, cdnow_summary):
    if model_class is GammaGammaModel:
        model = model_class().fit(cdnow_summary["frequency"], cdnow_summary["monetary_value"])
    else:
        model = model_class().fit(*_rfm(cdnow_summary))
    data = json.loads(json.dumps(model.to_dict()))
    again = model_class.from_dict(data)
    assert again.params_ == model.params_
    assert again.log_likelihood_ == model.log_likelihood_
    with pytest.raises(ValueError, match="expected"):
        model_class.from_dict({**data, "model": "something else"})


def test_analytic_gradients_match_finite_differences(cdnow_summary):
    x, t_x, age = (cdnow_summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    for model, params in (
        (BetaGeoModel(), np.array([0.3, 5.0, 0.9, 2.0])),
        (ModifiedBetaGeoModel(), np.array([0.5, 6.0, 1.2, 1.5])),
    ):
        analytic = model._gradient_rows(params, x, t_x, age).sum(axis=1)
        numeric = [
            (
                model._log_likelihood_rows(params + e, x, t_x, age).sum()
                - model._log_likelihood_rows(params - e, x, t_x, age).sum()
            )
            / 2e-6
            for e in np.eye(4) * 1e-6
        ]
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


def test_clv_discounts_and_grows_with_horizon(cdnow_summary):
    purchases = BetaGeoModel().fit(*_rfm(cdnow_summary))
    spend = GammaGammaModel().fit(cdnow_summary["frequency"], cdnow_summary["monetary_value"])
    args = dict(
        purchase_model=purchases,
        spend_model=spend,
        frequency=cdnow_summary["frequency"],
        recency=cdnow_summary["recency"],
        T=cdnow_summary["T"],
        monetary_value=cdnow_summary["monetary_value"],
    )
    year = customer_lifetime_value(**args)
    undiscounted = customer_lifetime_value(**args, monthly_discount=0.0)
    two_years = customer_lifetime_value(**args, months=24)
    assert np.all(np.isfinite(year)) and np.all(year >= 0)
    assert np.all(year <= undiscounted) and np.all(two_years >= year)
    months = 365.25 / 12 / 7 * 12
    plain = purchases.conditional_expected_number_of_purchases(months, *_rfm(cdnow_summary))
    expected_spend = spend.conditional_expected_average_profit(
        cdnow_summary["frequency"], cdnow_summary["monetary_value"]
    )
    np.testing.assert_allclose(undiscounted, plain * expected_spend, rtol=1e-9)
