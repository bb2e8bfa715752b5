"""The fast paths of the fits agree with the straightforward computations they replace."""

from __future__ import annotations

import numpy as np
import pytest

from dangol.analytics.betageo import BetaGeoModel, ModifiedBetaGeoModel
from dangol.analytics.fitting import collapse, collapse_codes, hessian_from_gradient, level_codes
from dangol.analytics.simulate import simulate_betageo


def _columns(cdnow_summary):
    return tuple(cdnow_summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (BetaGeoModel(), np.array([0.3, 5.0, 0.9, 2.0])),
        (ModifiedBetaGeoModel(), np.array([0.5, 6.0, 1.2, 1.5])),
    ],
)
def test_bgnbd_totals_match_row_sums(cdnow_summary, model, params):
    x, t_x, age = _columns(cdnow_summary)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, x.size)
    value, grad, hessian = model._totals((x, t_x, age), weights)(params, hessian=True)
    assert value == pytest.approx(weights @ model._log_likelihood_rows(params, x, t_x, age))
    np.testing.assert_allclose(grad, model._gradient_rows(params, x, t_x, age) @ weights)

    def row_gradient(p):
        return model._gradient_rows(p, x, t_x, age) @ weights

    numeric = hessian_from_gradient(row_gradient, params, step=1e-6)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-3)


def test_bgnbd_totals_survive_extreme_gaps():
    # (r + x) (log(alpha + T) - log(alpha + t_x)) far beyond exp's range.
    x = np.array([0.0, 400.0, 3.0])
    t_x = np.array([0.0, 1.0, 2.0])
    age = np.array([5.0, 5000.0, 4.0])
    model = BetaGeoModel()
    params = np.array([2.0, 0.01, 0.9, 2.0])
    value, grad, hessian = model._totals((x, t_x, age), np.ones(3))(params, hessian=True)
    assert value == pytest.approx(model._log_likelihood_rows(params, x, t_x, age).sum())
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(hessian))


@pytest.mark.parametrize("n", [1_000, 120_000])
def test_collapse_matches_numpy_unique(n):
    data = simulate_betageo(r=0.3, alpha=4.0, a=0.8, b=2.4, n=n, T=(1.0, 78.0), seed=3)
    x = data["frequency"].to_numpy().astype(float)
    t_x = np.round(data["recency"].to_numpy() * 7) / 7
    age = np.round(data["T"].to_numpy() * 7) / 7
    levels, codes = level_codes(age)
    expected_levels, expected_codes = np.unique(age, return_inverse=True)
    np.testing.assert_array_equal(levels, expected_levels)
    np.testing.assert_array_equal(codes, expected_codes)
    rows, counts = collapse(x, t_x, age)
    expected, expected_counts = np.unique(np.c_[x, t_x, age], axis=0, return_counts=True)
    np.testing.assert_array_equal(np.c_[tuple(rows)], expected)
    np.testing.assert_array_equal(counts, expected_counts)
    # Any order of the customers gives the same collapsed rows.
    order = np.random.default_rng(0).permutation(n)
    again, again_counts = collapse(x[order], t_x[order], age[order])
    np.testing.assert_array_equal(np.c_[tuple(again)], expected)
    np.testing.assert_array_equal(again_counts, counts)
    levels, codes, _ = collapse_codes(x, t_x, age)
    np.testing.assert_array_equal(levels[0][codes[0]], rows[0])


def test_level_codes_merges_signed_zero():
    values = np.r_[np.zeros(30_000), -np.zeros(30_000), np.ones(10)]
    levels, codes = level_codes(values)
    assert levels.tolist() == [0.0, 1.0]
    assert np.bincount(codes).tolist() == [60_000, 10]


def test_bgnbd_standard_errors_match_finite_differences(cdnow_summary):
    model = BetaGeoModel().fit(*_columns(cdnow_summary))
    theta = np.log([model.params_[k] for k in model.param_names])
    x, t_x, age = _columns(cdnow_summary)
    hessian = model._hessian_by_differences(theta, (x, t_x, age), np.ones(x.size))
    errors = np.exp(theta) * np.sqrt(np.diag(np.linalg.inv(-hessian)))
    np.testing.assert_allclose(
        [model.standard_errors_[k] for k in model.param_names], errors, rtol=1e-5
    )
