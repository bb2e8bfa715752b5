"""BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007).

Both treat a customer as buying at Poisson rate lambda ~ Gamma(r, alpha) until dropping out with
probability p ~ Beta(a, b) right after a purchase (MBG/NBD: also right after the first one, so a
one-off buyer can be dead). Log-likelihoods are assembled in log space with ``logaddexp`` so that
t_x = T, x = 0 and very large x neither overflow nor lose precision, and their gradients are
analytic, which is what makes fitting a million customers take seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import betaincinv, betaln, digamma, expit, gammaln, hyp2f1, roots_legendre

from .fitting import Array, TransactionModel, as_float_array

# The prediction formulas divide by (a - 1); exactly at a = 1 they are 0/0 with a finite limit.
_A_ONE_GAP = 1e-7
# Beyond these the hypergeometric closed forms lose accuracy (tiny shops can drive a and b to
# their bounds); quadrature over the dropout probability takes over.
_CLOSED_FORM_MAX_A, _CLOSED_FORM_MAX_B = 100.0, 1e4
_NODES, _WEIGHTS = roots_legendre(32)
_UNIT_NODES, _UNIT_WEIGHTS = 0.5 * (_NODES + 1.0), 0.5 * _WEIGHTS


def _expected_by_quadrature(
    a: float, b_post: Array, shape: Array, base: Array, t: Array, *, survivors_only: bool = False
) -> Array:
    """E_p[w(p) (1 - (base / (base + p t))^shape) / p] with p ~ Beta(a, b_post).

    Given the dropout probability p, a customer alive now makes (1 - e^{-lambda p t}) / p
    purchases in expectation; averaging over lambda ~ Gamma(shape, base) gives the bracket. The
    Beta average is taken on its quantile scale, where the integrand is smooth and bounded.
    ``survivors_only`` weights by w(p) = 1 - p (MBG/NBD's possible dropout at the first purchase).
    """
    b_post, shape, base, t = np.broadcast_arrays(b_post, shape, base, t)
    p = betaincinv(a, b_post[:, None], _UNIT_NODES[None, :])
    ratio = t[:, None] / base[:, None]
    limit = np.broadcast_to((shape * ratio[:, 0])[:, None], p.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = -np.expm1(-shape[:, None] * np.log1p(p * ratio)) / p
    value = np.where(p > 1e-300, value, limit)
    if survivors_only:
        value = value * (1.0 - p)
    return value @ _UNIT_WEIGHTS


def _away_from_one(a: float) -> float:
    return a if abs(a - 1.0) > _A_ONE_GAP else 1.0 + np.copysign(_A_ONE_GAP, a - 1.0 or 1.0)


class _Levels:
    """Distinct values of a column and each row's position among them.

    Special functions then run once per distinct value (a few hundred in a shop's data, where
    times are whole days) instead of once per row, which dominates the cost of a fit.
    """

    def __init__(self, values: Array):
        self.values, self.index = np.unique(values, return_inverse=True)

    def map(self, function: Any) -> Array:
        return np.asarray(function(self.values), dtype=np.float64)[self.index]


class _BetaGeoBase(TransactionModel):
    param_names = ("r", "alpha", "a", "b")
    # Offset of the dropout opportunities: BG/NBD has x - 1 chances to have dropped out before
    # t_x, MBG/NBD has x (it can drop out right after the first purchase too).
    _offset = 0.0

    def _levels(self, x: Array, t_x: Array, age: Array) -> tuple[_Levels, _Levels, _Levels]:
        # One-slot memo keyed on array identity: the optimiser passes the same arrays each call.
        cache = self.__dict__.get("_levels_cache")
        if cache is not None and cache[0] is x and cache[1] is t_x and cache[2] is age:
            return cache[3]
        levels = (_Levels(x), _Levels(t_x), _Levels(age))
        self._levels_cache = (x, t_x, age, levels)
        return levels

    def _parts(self, params: Array, x: Array, t_x: Array, age: Array) -> dict[str, Array]:
        r, alpha, a, b = params
        k = self._offset
        by_x, by_tx, by_age = self._levels(x, t_x, age)
        rx = r + x
        log_at = by_age.map(lambda v: np.log(alpha + v))
        log_atx = by_tx.map(lambda v: np.log(alpha + v))
        a1 = by_x.map(lambda v: gammaln(r + v)) - gammaln(r) + r * np.log(alpha)
        a2 = by_x.map(lambda v: gammaln(b + v + k) - gammaln(a + b + v + k))
        a2 += gammaln(a + b) - gammaln(b)
        a3 = -rx * log_at
        dead_possible = (x > 0) if k == 0.0 else np.ones_like(x, dtype=bool)
        denom = by_x.map(lambda v: np.where((v > 0) | (k > 0), b + v + k - 1.0, 1.0))
        a4 = np.where(dead_possible, np.log(a) - np.log(denom) - rx * log_atx, -np.inf)
        return {
            "a1": a1,
            "a2": a2,
            "a3": a3,
            "a4": a4,
            "dead_possible": dead_possible,
            "denom": denom,
            "log_at": log_at,
            "log_atx": log_atx,
            "levels": by_x,
        }

    def _log_likelihood_rows(self, params: Array, x: Array, t_x: Array, age: Array) -> Array:
        p = self._parts(params, x, t_x, age)
        return p["a1"] + p["a2"] + np.logaddexp(p["a3"], p["a4"])

    def _gradient_rows(self, params: Array, x: Array, t_x: Array, age: Array) -> Array:
        return self._value_and_gradient_rows(params, x, t_x, age)[1]

    def _value_and_gradient_rows(
        self, params: Array, x: Array, t_x: Array, age: Array
    ) -> tuple[Array, Array]:
        """Per-row log-likelihood and its gradient from one pass over the shared terms."""
        r, alpha, a, b = params
        k = self._offset
        p = self._parts(params, x, t_x, age)
        value = p["a1"] + p["a2"] + np.logaddexp(p["a3"], p["a4"])
        by_x = p["levels"]
        by_tx, by_age = self._levels(x, t_x, age)[1:]
        # Share of the likelihood carried by the "dropped out after t_x" branch.
        w = np.where(p["dead_possible"], expit(p["a4"] - p["a3"]), 0.0)
        d_r = (
            by_x.map(lambda v: digamma(r + v))
            - digamma(r)
            + np.log(alpha)
            - (1 - w) * p["log_at"]
            - w * p["log_atx"]
        )
        inv_at = by_age.map(lambda v: 1.0 / (alpha + v))
        inv_atx = by_tx.map(lambda v: 1.0 / (alpha + v))
        d_alpha = r / alpha - (r + x) * ((1 - w) * inv_at + w * inv_atx)
        psi_ab = digamma(a + b)
        psi_abx = by_x.map(lambda v: digamma(a + b + v + k))
        d_a = psi_ab - psi_abx + w / a
        d_b = (
            psi_ab + by_x.map(lambda v: digamma(b + v + k)) - digamma(b) - psi_abx - w / p["denom"]
        )
        return value, np.vstack([d_r, d_alpha, d_a, d_b])

    # -- predictions ------------------------------------------------------------------------
    def _log_dead_odds(self, x: Array, t_x: Array, age: Array) -> Array:
        r, alpha, a, b = self._params()
        k = self._offset
        denom = np.maximum(b + x + k - 1.0, 1e-300)
        return np.log(a) - np.log(denom) + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Array:
        """P(still active at T | x, t_x, T)."""
        x, t_x, age = (as_float_array(v) for v in (frequency, recency, T))
        p = expit(-self._log_dead_odds(x, t_x, age))
        if self._offset == 0.0:
            p = np.where(x > 0, p, 1.0)
        return p

    def conditional_expected_number_of_purchases(
        self, t: float, frequency: Any, recency: Any, T: Any
    ) -> Array:
        """E[purchases in (T, T + t] | x, t_x, T]."""
        r, alpha, a, b = self._params()
        a = _away_from_one(a)
        k = self._offset
        x, t_x, age = (as_float_array(v) for v in (frequency, recency, T))
        t = float(t)
        one_minus_z = (alpha + age) / (alpha + age + t)
        z = t / (alpha + age + t)
        # Euler's transformation of 2F1(r+x, b+x+k; a+b+x+k-1; z) keeps the hypergeometric term
        # near 1 even for x in the hundreds, where the textbook form overflows.
        c = a + b + x + k - 1.0
        with np.errstate(all="ignore"):
            hyp = hyp2f1(a + b + k - 1.0 - r, a - 1.0, c, z)
            expected = c / (a - 1.0) * (1.0 - one_minus_z ** (a - 1.0) * hyp)
        bad = ~np.isfinite(expected) | (expected < 0)
        if a > _CLOSED_FORM_MAX_A or b > _CLOSED_FORM_MAX_B:
            bad[:] = True
        if bad.any():
            expected[bad] = _expected_by_quadrature(
                a, b + x[bad] + k, r + x[bad], alpha + age[bad], np.full(bad.sum(), t)
            )
        return expected * self.conditional_probability_alive(x, t_x, age)

    def probability_of_purchase(self, t: float, frequency: Any, recency: Any, T: Any) -> Array:
        """P(at least one purchase in (T, T + t] | x, t_x, T).

        An active customer buys nothing in the window only if no Poisson event happens (dropout is
        only possible right after a purchase), so P = P(alive) (1 - ((alpha+T)/(alpha+T+t))^(r+x)).
        """
        r, alpha, _, _ = self._params()
        x, t_x, age = (as_float_array(v) for v in (frequency, recency, T))
        none = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + float(t))))
        return self.conditional_probability_alive(x, t_x, age) * (1.0 - none)

    def expected_number_of_purchases(self, t: Any) -> Array:
        """Unconditional E[X(t)] for a customer who has just made a first purchase."""
        r, alpha, a, b = self._params()
        a = _away_from_one(a)
        k = self._offset
        t = as_float_array(t)
        z = t / (alpha + t)
        lead = (a + b + k - 1.0) / (a - 1.0) if k == 0.0 else b / (a - 1.0)
        with np.errstate(all="ignore"):
            hyp = hyp2f1(a + b + k - 1.0 - r, a - 1.0, a + b + k - 1.0, z)
            expected = lead * (1.0 - (alpha / (alpha + t)) ** (a - 1.0) * hyp)
        if a > _CLOSED_FORM_MAX_A or b > _CLOSED_FORM_MAX_B or not np.all(np.isfinite(expected)):
            expected = _expected_by_quadrature(
                a, np.array([b]), np.array([r]), np.array([alpha]), t, survivors_only=k > 0
            )
        return expected


class BetaGeoModel(_BetaGeoBase):
    """BG/NBD. ``fit(frequency, recency, T)`` then ``params_`` = {r, alpha, a, b}."""

    kind = "bgnbd"
    _offset = 0.0

    def probability_of_n_purchases(self, t: float, n: int) -> float:
        """P(X(t) = n) for a new customer (Fader, Hardie & Lee 2005, eq. 8)."""
        r, alpha, a, b = self._params()
        t = float(t)
        log_q = np.log(alpha) - np.log(alpha + t)
        log_z = np.log(t) - np.log(alpha + t) if t > 0 else -np.inf
        first = (
            betaln(a, b + n)
            - betaln(a, b)
            + gammaln(r + n)
            - gammaln(r)
            - gammaln(n + 1)
            + r * log_q
            + (n * log_z if n > 0 else 0.0)
        )
        value = float(np.exp(first))
        if n > 0:
            j = np.arange(n)
            terms = np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * log_q + j * log_z)
            value += float(np.exp(betaln(a + 1, b + n - 1) - betaln(a, b)) * (1 - terms.sum()))
        return value


class ModifiedBetaGeoModel(_BetaGeoBase):
    """MBG/NBD: like BG/NBD but a customer may drop out right after the first purchase."""

    kind = "mbgnbd"
    _offset = 1.0
