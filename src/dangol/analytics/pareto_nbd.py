"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), following Fader & Hardie's 2005 note.

Customers buy at rate lambda ~ Gamma(r, alpha) during an exponential lifetime with rate
mu ~ Gamma(s, beta). The likelihood needs the Gauss hypergeometric term A0 of the note; it is
evaluated in log form with the note's alpha >= beta / alpha < beta branches, after Euler's
transformation 2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z). The transformed series is
bounded by 1/(1-z), so it cannot overflow however large x gets, and the (1-z)^(1-b) factor is
added in log space.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.integrate import quad
from scipy.special import gammaln, hyp2f1, roots_legendre

from .fitting import Array, TransactionModel, as_float_array

_NODES, _WEIGHTS = roots_legendre(24)
_CHUNK = 200_000
# scipy's 2F1 gives up (NaN) for z very near 1 with large parameters, which only happens at
# extreme parameter values (tiny shops). Those rows are integrated directly, up to this many;
# beyond that the point is simply rejected by the optimiser.
_MAX_QUADRATURE_ROWS = 2_000


def _log_hyp_term(rsx: Array, b2: Array, low: Array, high: Array, t: Array) -> Array:
    """log[ 2F1(rsx, b2; rsx+1; (high-low)/(high+t)) / (high+t)^rsx ]."""
    z = (high - low) / (high + t)
    log_one_minus_z = np.log(low + t) - np.log(high + t)
    series = hyp2f1(1.0, rsx + 1.0 - b2, rsx + 1.0, z)
    return (1.0 - b2) * log_one_minus_z + np.log(series) - rsx * np.log(high + t)


def _log_a0(params: Array, x: Array, t_x: Array, age: Array) -> Array:
    r, alpha, s, beta = params
    rsx = r + s + x
    if alpha >= beta:
        low, high, b2 = beta, alpha, np.full_like(x, s + 1.0)
    else:
        low, high, b2 = alpha, beta, r + x
    with np.errstate(all="ignore"):
        first = _log_hyp_term(rsx, b2, low, high, t_x)
        second = _log_hyp_term(rsx, b2, low, high, age)
        # A0 is a difference of two positive terms, first >= second; at t_x = T it is exactly 0.
        gap = np.minimum(second - first, 0.0)
        out = np.where(t_x < age, first + np.log(-np.expm1(gap)), -np.inf)
    failed = np.flatnonzero(np.isnan(out))
    if 0 < failed.size <= _MAX_QUADRATURE_ROWS:
        for i in failed:
            out[i] = np.log(rsx[i]) + _log_dead_integral(params, x[i], t_x[i], age[i])
    return out


def _log_dead_integral(params: Array, x: float, t_x: float, age: float) -> float:
    """log of the integral over t_x < u < T of (alpha+u)^-(r+x) (beta+u)^-(s+1) (A0 / (r+s+x))."""
    r, alpha, s, beta = params

    def log_density(u: float) -> float:
        return -(r + x) * np.log(alpha + u) - (s + 1.0) * np.log(beta + u)

    # Scaled by the integrand's value at t_x, its maximum, so that nothing underflows.
    peak = log_density(t_x)
    value, _ = quad(lambda u: np.exp(log_density(u) - peak), t_x, age, epsrel=1e-10, limit=200)
    return float(peak + np.log(value)) if value > 0 else -np.inf


def _growth_factor(shape_minus_one: float, log_ratio: Array) -> Array:
    """(1 - exp(-(s-1) L)) / (s-1), with its limit L at s = 1."""
    if abs(shape_minus_one) < 1e-10:
        return log_ratio
    return -np.expm1(-shape_minus_one * log_ratio) / shape_minus_one


class ParetoNBDModel(TransactionModel):
    """Pareto/NBD. ``fit(frequency, recency, T)`` then ``params_`` = {r, alpha, s, beta}."""

    kind = "pareto_nbd"
    param_names = ("r", "alpha", "s", "beta")

    def _log_parts(self, params: Array, x: Array, t_x: Array, age: Array) -> tuple[Array, Array]:
        r, alpha, s, beta = params
        alive_term = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
        dead_term = np.log(s) + _log_a0(params, x, t_x, age) - np.log(r + s + x)
        return alive_term, dead_term

    def _log_likelihood_rows(self, params: Array, x: Array, t_x: Array, age: Array) -> Array:
        r, alpha, s, beta = params
        lead = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive_term, dead_term = self._log_parts(params, x, t_x, age)
        with np.errstate(invalid="ignore"):
            return lead + np.logaddexp(alive_term, dead_term)

    # -- predictions ------------------------------------------------------------------------
    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Array:
        """P(still active at T | x, t_x, T)."""
        x, t_x, age = (as_float_array(v) for v in (frequency, recency, T))
        alive_term, dead_term = self._log_parts(self._params(), x, t_x, age)
        return np.exp(alive_term - np.logaddexp(alive_term, dead_term))

    def conditional_expected_number_of_purchases(
        self, t: float, frequency: Any, recency: Any, T: Any
    ) -> Array:
        """E[purchases in (T, T + t] | x, t_x, T]."""
        r, alpha, s, beta = self._params()
        x, t_x, age = (as_float_array(v) for v in (frequency, recency, T))
        growth = _growth_factor(s - 1.0, np.log1p(float(t) / (beta + age)))
        rate = (r + x) * (beta + age) / (alpha + age)
        return self.conditional_probability_alive(x, t_x, age) * rate * growth

    def expected_number_of_purchases(self, t: Any) -> Array:
        """Unconditional E[X(t)] for a customer who has just made a first purchase."""
        r, alpha, s, beta = self._params()
        t = as_float_array(t)
        return r * beta / alpha * _growth_factor(s - 1.0, np.log1p(t / beta))

    def probability_of_purchase(self, t: float, frequency: Any, recency: Any, T: Any) -> Array:
        """P(at least one purchase in (T, T + t] | x, t_x, T).

        Given survival to T, the posterior rates are Gamma(r+x, alpha+T) and Gamma(s, beta+T).
        With w = 1 - ((alpha+T)/(alpha+T+u))^(r+x) the first-purchase density becomes uniform,
        leaving the smooth survival factor ((beta+T)/(beta+T+u))^s for Gauss-Legendre.
        """
        r, alpha, s, beta = self._params()
        x, t_x, age = (as_float_array(v) for v in (frequency, recency, T))
        out = np.empty_like(x)
        for start in range(0, x.size, _CHUNK):
            part = slice(start, start + _CHUNK)
            shape = (r + x[part])[:, None]
            a_t, b_t = (alpha + age[part])[:, None], (beta + age[part])[:, None]
            top = -np.expm1(-shape * np.log1p(float(t) / a_t))
            w = 0.5 * top * (_NODES + 1.0)
            u = a_t * np.expm1(-np.log1p(-w) / shape)
            survive = np.exp(-s * np.log1p(u / b_t))
            out[part] = (0.5 * top * (survive @ _WEIGHTS[:, None]))[:, 0]
        return self.conditional_probability_alive(x, t_x, age) * out
