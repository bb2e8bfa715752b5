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
from scipy.special import (
    betaincinv,
    betaln,
    digamma,
    expit,
    gammaln,
    hyp2f1,
    polygamma,
    roots_legendre,
)

from .fitting import Array, TransactionModel, as_float_array, level_codes

# The prediction formulas divide by (a - 1); exactly at a = 1 they are 0/0 with a finite limit.
_A_ONE_GAP = 1e-7
# Beyond these the hypergeometric closed forms lose accuracy (tiny shops can drive a and b to
# their bounds); quadrature over the dropout probability takes over.
_CLOSED_FORM_MAX_A, _CLOSED_FORM_MAX_B = 100.0, 1e4
_NODES, _WEIGHTS = roots_legendre(32)
# From this many customers on, predictions evaluate special functions once per distinct value.
_PAIRS_MIN_ROWS = 10_000
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


def _whole_number_pairs(x: Array, age: Array) -> tuple[Array, Array, Array] | None:
    """Distinct (x, T) pairs and each row's pair, when both are whole numbers in a modest range.

    Times in days are whole numbers, so one ``bincount`` over ``x * (max T + 1) + T`` finds
    the pairs without sorting; anything else (weeks, fractions, NaN) returns None.
    """
    x_max, age_max = float(x.max()), float(age.max())
    if not (x.min() >= 0 and age.min() >= 0 and (x_max + 1) * (age_max + 1) <= 4 * x.size):
        return None
    x_int, age_int = x.astype(np.int64), age.astype(np.int64)
    if not (np.array_equal(x_int, x) and np.array_equal(age_int, age)):
        return None
    width = int(age_max) + 1
    key = x_int * width + age_int
    seen = np.bincount(key, minlength=(int(x_max) + 1) * width) > 0
    found = np.flatnonzero(seen)
    rank = np.cumsum(seen) - 1
    return (found // width).astype(np.float64), (found % width).astype(np.float64), rank[key]


def _away_from_one(a: float) -> float:
    return a if abs(a - 1.0) > _A_ONE_GAP else 1.0 + np.copysign(_A_ONE_GAP, a - 1.0 or 1.0)


class _Levels:
    """Distinct values of a column and each row's position among them.

    Special functions then run once per distinct value (a few hundred in a shop's data, where
    times are whole days) instead of once per row, which dominates the cost of a fit.
    """

    def __init__(self, values: Array, *, codes: tuple[Array, Array] | None = None):
        self.values, self.index = codes if codes is not None else level_codes(values)

    def map(self, function: Any) -> Array:
        return np.asarray(function(self.values), dtype=np.float64)[self.index]


def _dot(left: Array, right: Array) -> float:
    return float(np.einsum("i,i", left, right))


class _Totals:
    """Whole-sample log-likelihood, gradient and Hessian of (M)BG/NBD in one pass.

    The fit only needs weighted sums over customers, never per-row gradients. Every term that
    depends on one column alone is summed per distinct value (weights are pre-aggregated per
    level), so per row there remains only the two-branch mixture ("still alive" vs "dropped out
    after t_x"), evaluated on the rows where dropping out is possible (x > 0 for BG/NBD).

    With d = log(a / (b + x + k - 1)) + (r + x)(log(alpha + T) - log(alpha + t_x)) and
    w = expit(d), a row's log-likelihood is A(x) - (r + x) log(alpha + T) + softplus(d), so its
    gradient is grad A + grad a3 + w grad d and its Hessian adds w hess d + w(1 - w) grad d grad d'.
    """

    def __init__(
        self, levels: tuple[_Levels, _Levels, _Levels], x: Array, weights: Array, k: float
    ):
        by_x, by_tx, by_age = levels
        self.k = k
        self.x_values = by_x.values
        self.tx_values = by_tx.values
        self.age_values = by_age.values
        n_x, n_age = by_x.values.size, by_age.values.size
        self.total = float(weights.sum())
        self.w_x = np.bincount(by_x.index, weights, minlength=n_x)
        self.w_age = np.bincount(by_age.index, weights, minlength=n_age)
        self.wx_age = np.bincount(by_age.index, weights * x, minlength=n_age)
        dead = np.flatnonzero(x > 0) if k == 0.0 else None
        pick = (lambda v: v) if dead is None else (lambda v: v[dead])
        self.ix, self.itx, self.iage = pick(by_x.index), pick(by_tx.index), pick(by_age.index)
        self.x, self.weights = pick(x), pick(weights)
        # Levels of x where dropping out is possible (b + x + k - 1 > 0 there).
        self.dead_x = (self.x_values > 0) | (k > 0)
        self._work = np.empty((7, self.x.size))

    def __call__(self, params: Array, *, hessian: bool = False) -> tuple[float, Array, Array]:
        r, alpha, a, b = (float(p) for p in params)
        k, xv, W = self.k, self.x_values, self.total
        w_x, w_age, wx_age = self.w_x, self.w_age, self.wx_age
        ab, abx, bx = a + b, a + b + xv + k, b + xv + k
        log_age = np.log(alpha + self.age_values)
        inv_age = 1.0 / (alpha + self.age_values)
        log_tx = np.log(alpha + self.tx_values)
        inv_tx = 1.0 / (alpha + self.tx_values)
        rx_age = r * w_age + wx_age  # sum over rows of weight * (r + x), per level of T
        # Terms of single columns, summed per level.
        value = (
            w_x @ (gammaln(r + xv) + gammaln(bx) - gammaln(abx))
            + W * (-gammaln(r) + r * np.log(alpha) + gammaln(ab) - gammaln(b))
            - rx_age @ log_age
        )
        psi_abx = digamma(abx)
        grad = np.array(
            [
                w_x @ digamma(r + xv) + W * (np.log(alpha) - digamma(r)) - w_age @ log_age,
                W * r / alpha - rx_age @ inv_age,
                W * digamma(ab) - w_x @ psi_abx,
                w_x @ (digamma(bx) - psi_abx) + W * (digamma(ab) - digamma(b)),
            ]
        )
        # The mixture, per row where dropping out is possible. Work arrays are reused between
        # calls and dot products avoid BLAS (whose threads only add overhead at this size).
        denom = np.where(self.dead_x, b + xv + k - 1.0, 1.0)
        q = 1.0 / denom
        log_c = np.log(a) - np.log(denom)
        gap, d, rx, survive, v, e, tmp = self._work
        np.take(log_age, self.iage, out=gap)
        np.subtract(gap, np.take(log_tx, self.itx, out=tmp), out=gap)  # D = dd/dr >= 0
        np.add(self.x, r, out=rx)
        np.multiply(rx, gap, out=d)
        np.add(d, np.take(log_c, self.ix, out=tmp), out=d)
        # softplus(d) = -log(1 - w); beyond d = 700 it is d itself to double precision.
        np.minimum(d, 700.0, out=survive)
        overflow = float(np.max(d, initial=0.0)) > 700.0
        if overflow:
            value += _dot(self.weights, np.subtract(d, survive, out=tmp))
        np.negative(survive, out=survive)
        expit(survive, out=survive)  # 1 - w
        value -= _dot(self.weights, np.log(survive, out=tmp))
        expit(d, out=v)
        np.multiply(v, self.weights, out=v)  # weight * w
        np.take(inv_age, self.iage, out=e)
        np.subtract(e, np.take(inv_tx, self.itx, out=tmp), out=e)  # d(D)/d alpha
        rx_e = np.multiply(rx, e, out=rx)  # dd/d alpha
        v_x = np.bincount(self.ix, v, minlength=xv.size)
        grad += [_dot(v, gap), _dot(v, rx_e), v_x.sum() / a, -(v_x @ q)]
        if not hessian:
            return float(value), grad, np.zeros((4, 4))
        tri_ab = polygamma(1, ab) - polygamma(1, abx)
        h = np.zeros((4, 4))
        h[0, 0] = w_x @ polygamma(1, r + xv) - W * polygamma(1, r)
        h[0, 1] = W / alpha - w_age @ inv_age + _dot(v, e)
        h[1, 1] = -W * r / alpha**2 + rx_age @ inv_age**2
        np.take(inv_age, self.iage, out=d)
        np.add(d, np.take(inv_tx, self.itx, out=tmp), out=d)
        h[1, 1] -= np.einsum("i,i,i", v, rx_e, d)
        h[2, 2] = w_x @ tri_ab - v_x.sum() / a**2
        h[2, 3] = w_x @ tri_ab
        h[3, 3] = w_x @ (polygamma(1, bx) + tri_ab) - W * polygamma(1, b) + v_x @ q**2
        # w (1 - w) grad d grad d', with grad d = (D, (r + x) e, 1 / a, -q(x)).
        if overflow:
            expit(np.negative(d, out=survive), out=survive)
        u = np.multiply(v, survive, out=survive)
        u_x = np.bincount(self.ix, u, minlength=xv.size)
        u_gap = np.multiply(u, gap, out=tmp)
        u_gap_x = np.bincount(self.ix, u_gap, minlength=xv.size)
        h[0, 0] += _dot(u_gap, gap)
        h[0, 1] += _dot(u_gap, rx_e)
        u_rx_e = np.multiply(u, rx_e, out=tmp)
        u_rx_e_x = np.bincount(self.ix, u_rx_e, minlength=xv.size)
        h[1, 1] += _dot(u_rx_e, rx_e)
        h[0, 2] += u_gap_x.sum() / a
        h[0, 3] -= u_gap_x @ q
        h[1, 2] += u_rx_e_x.sum() / a
        h[1, 3] -= u_rx_e_x @ q
        h[2, 2] += u_x.sum() / a**2
        h[2, 3] -= (u_x @ q) / a
        h[3, 3] += u_x @ q**2
        h = np.triu(h) + np.triu(h, 1).T
        return float(value), grad, h


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

    def _seed_levels(
        self, data: tuple[Array, Array, Array], levels: list[Array], codes: list[Array]
    ) -> None:
        # The collapse step already knows every column's distinct values: keep them.
        x, t_x, age = data
        made = tuple(
            _Levels(col, codes=(lv, c)) for col, lv, c in zip(data, levels, codes, strict=True)
        )
        self._levels_cache = (x, t_x, age, made)

    def _totals(self, data: tuple[Array, ...], weights: Array) -> _Totals:
        x, t_x, age = data
        return _Totals(self._levels(x, t_x, age), x, weights, self._offset)

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
        x, t_x, age = (as_float_array(v) for v in (frequency, recency, T))
        t = float(t)
        pairs = _whole_number_pairs(x, age) if x.size >= _PAIRS_MIN_ROWS else None
        if pairs is not None:
            # The bracket depends on (x, T) only, and a shop has far fewer distinct pairs than
            # customers (about 21,000 among a million): evaluate it once per pair.
            x_pairs, age_pairs, inverse = pairs
            expected = self._expected_if_alive(t, x_pairs, age_pairs)[inverse]
        else:
            expected = self._expected_if_alive(t, x, age)
        return expected * self.conditional_probability_alive(x, t_x, age)

    def _expected_if_alive(self, t: float, x: Array, age: Array) -> Array:
        """E[purchases in (T, T + t] | alive at T, x]: depends on x and T only."""
        r, alpha, a, b = self._params()
        a = _away_from_one(a)
        k = self._offset
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
        return expected

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
