"""Vectorised draws from the customer-base models, for tests, demos and benchmarks.

Nothing loops over customers: given a customer's Poisson rate, the number of purchases in a
window is Poisson, and given that count the purchase times are uniform order statistics, so the
time of the k-th of n purchases in [0, w] is w * Beta(k, n - k + 1).
"""

from __future__ import annotations

import numpy as np
import polars as pl

Array = np.ndarray


def _ages(rng: np.random.Generator, n: int, T: float | tuple[float, float]) -> Array:
    if isinstance(T, tuple):
        return rng.uniform(T[0], T[1], size=n)
    return np.full(n, float(T))


def _last_of(rng: np.random.Generator, kept: Array, total: Array, window: Array) -> Array:
    """Time of the ``kept``-th of ``total`` uniform events in [0, window] (0 when kept = 0)."""
    safe_kept = np.maximum(kept, 1)
    times = window * rng.beta(safe_kept, np.maximum(total - safe_kept + 1, 1))
    return np.where(kept > 0, times, 0.0)


def _frame(x: Array, t_x: Array, age: Array) -> pl.DataFrame:
    return pl.DataFrame({"frequency": x.astype(np.int64), "recency": t_x, "T": age})


def simulate_betageo(
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    n: int,
    T: float | tuple[float, float],
    modified: bool = False,
    seed: int | None = None,
) -> pl.DataFrame:
    """Calibration summaries (frequency, recency, T) drawn from BG/NBD (or MBG/NBD).

    ``T`` is one observation length for all or a (low, high) range to draw from uniformly.
    """
    rng = np.random.default_rng(seed)
    age = _ages(rng, n, T)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    # Purchases made before dropping out: BG/NBD drops after a repeat purchase (>= 1 of them),
    # MBG/NBD may also drop right after the first purchase (>= 0).
    lifetime_purchases = rng.geometric(p) - (1 if modified else 0)
    total = rng.poisson(lam * age)
    x = np.minimum(total, lifetime_purchases)
    return _frame(x, _last_of(rng, x, total, age), age)


def simulate_pareto_nbd(
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    n: int,
    T: float | tuple[float, float],
    seed: int | None = None,
) -> pl.DataFrame:
    """Calibration summaries drawn from Pareto/NBD."""
    rng = np.random.default_rng(seed)
    age = _ages(rng, n, T)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    mu = rng.gamma(s, 1.0 / beta, size=n)
    active = np.minimum(rng.exponential(1.0 / mu), age)
    x = rng.poisson(lam * active)
    return _frame(x, _last_of(rng, x, x, active), age)


def simulate_gamma_gamma(
    *, p: float, q: float, gamma: float, frequency: Array, seed: int | None = None
) -> Array:
    """Mean repeat-occasion values for customers with the given repeat counts (0 when x = 0)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(q, 1.0 / gamma, size=x.size)
    # The mean of x Gamma(p, nu) values is Gamma(p x, x nu).
    safe = np.maximum(x, 1.0)
    means = rng.gamma(p * safe, 1.0 / (safe * nu))
    return np.where(x > 0, means, 0.0)
