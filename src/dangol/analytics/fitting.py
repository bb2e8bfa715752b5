"""Shared maximum-likelihood machinery for the customer-base models.

Every model is fitted on log-parameters with L-BFGS-B so that positivity is free and the
optimiser sees roughly isotropic curvature. Data are collapsed to unique rows with integer
weights first: a shop has far fewer distinct (x, t_x, T) triples than customers, and CDNOW
collapses 2,357 customers to about 1,100 rows, which is where much of the speed comes from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

# Natural parameters stay within [e^-LOG_BOUND, e^LOG_BOUND]: wide enough for any real shop, and
# a fit that runs into the edge is a sign the data cannot identify the model (flagged below).
LOG_BOUND = 12.0
MIN_RELIABLE_CUSTOMERS = 50

Array = np.ndarray


def as_float_array(values: Any) -> Array:
    """Turn a list, numpy array or polars Series into a 1-D float64 array."""
    if isinstance(values, pl.Series):
        values = values.to_numpy()
    return np.atleast_1d(np.asarray(values, dtype=np.float64))


# Below this many rows numpy's sort-based unique is as fast as anything and simplest.
_HASH_CODES_MIN_ROWS = 50_000


def level_codes(values: Array) -> tuple[Array, Array]:
    """Sorted distinct values of a column and each entry's position among them.

    Equivalent to ``np.unique(values, return_inverse=True)``. For long columns with few
    distinct values (times in whole days) it hashes instead of sorting every entry, which is
    several times faster at a million rows.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size < _HASH_CODES_MIN_ROWS or not np.all(np.isfinite(values)):
        levels, codes = np.unique(values, return_inverse=True)
        return levels, codes.reshape(-1)
    # Adding 0.0 turns -0.0 into 0.0, so that hashing and sorting see one zero.
    series = pl.Series(values + 0.0)
    levels = np.sort(series.unique().to_numpy())
    positions = pl.Series(np.arange(levels.size, dtype=np.int64))
    codes = series.replace_strict(pl.Series(levels), positions).to_numpy()
    return levels, codes


def _unique_counts(key: Array) -> tuple[Array, Array]:
    """``np.unique(key, return_counts=True)`` for an int64 array, with a multi-threaded sort."""
    ordered = pl.Series(key).sort().to_numpy() if key.size >= _HASH_CODES_MIN_ROWS else np.sort(key)
    starts = np.empty(ordered.size, dtype=bool)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    return ordered[first], np.diff(first, append=ordered.size)


def collapse_codes(*columns: Array) -> tuple[list[Array], list[Array], Array]:
    """Unique rows of equal-length columns as per-column levels and codes, with row counts.

    Returns ``(levels, codes, counts)``: row ``j`` of the result is
    ``[levels[i][codes[i][j]] for i in ...]``, rows are sorted lexicographically (so that a refit
    on the same data, in any order, follows the same optimiser path bit for bit) and
    ``counts[j]`` is how often the row occurs.
    """
    levels, codes = zip(*(level_codes(col) for col in columns), strict=True)
    sizes = [lv.size for lv in levels]
    if math.prod(sizes) >= 2**62:
        # Too many combinations for one integer key: group on the columns themselves.
        frame = pl.DataFrame({f"c{i}": c for i, c in enumerate(codes)})
        grouped = frame.group_by(frame.columns).len().sort(frame.columns)
        unique_codes = [grouped[f"c{i}"].to_numpy() for i in range(len(columns))]
        return list(levels), unique_codes, grouped["len"].to_numpy().astype(np.float64)
    # Mixed-radix key: sorting keys sorts rows lexicographically by (column 0, column 1, ...).
    key = np.zeros(columns[0].size, dtype=np.int64)
    for size, code in zip(sizes, codes, strict=True):
        key *= size
        key += code
    unique_keys, counts = _unique_counts(key)
    unique_codes = []
    for size in reversed(sizes):
        unique_codes.append(unique_keys % size)
        unique_keys = unique_keys // size
    return list(levels), unique_codes[::-1], counts.astype(np.float64)


def collapse(*columns: Array) -> tuple[list[Array], Array]:
    """Unique rows of the given equal-length columns (sorted) and how often each occurs."""
    levels, codes, counts = collapse_codes(*(as_float_array(c) for c in columns))
    return [lv[c] for lv, c in zip(levels, codes, strict=True)], counts


def numerical_hessian(
    function: Callable[[Array], float], point: Array, *, step: float = 1e-4
) -> Array:
    """Central second differences; used on log-parameters where one step suits all entries."""
    n = point.size
    hessian = np.empty((n, n))
    f0 = function(point)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = step
        hessian[i, i] = (function(point + ei) - 2.0 * f0 + function(point - ei)) / step**2
        for j in range(i):
            ej = np.zeros(n)
            ej[j] = step
            value = (
                function(point + ei + ej)
                - function(point + ei - ej)
                - function(point - ei + ej)
                + function(point - ei - ej)
            ) / (4.0 * step**2)
            hessian[i, j] = hessian[j, i] = value
    return hessian


def hessian_from_gradient(
    gradient: Callable[[Array], Array], point: Array, *, step: float = 1e-5
) -> Array:
    """Symmetrised central differences of an analytic gradient (more accurate than 2nd diffs)."""
    n = point.size
    hessian = np.empty((n, n))
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = step
        hessian[:, i] = (gradient(point + ei) - gradient(point - ei)) / (2.0 * step)
    return 0.5 * (hessian + hessian.T)


def standard_errors(neg_hessian_log: Array, params: Array) -> tuple[Array, bool]:
    """Standard errors of the natural parameters from the observed information on log scale.

    At the optimum the log-scale gradient is zero, so by the delta method SE(p) = p * SE(log p).
    Returns (errors, ok); a Hessian that is not positive definite gives infinite errors.
    """
    try:
        np.linalg.cholesky(neg_hessian_log)
        covariance = np.linalg.inv(neg_hessian_log)
    except np.linalg.LinAlgError:
        return np.full(params.size, np.inf), False
    variances = np.diag(covariance)
    if not np.all(np.isfinite(variances)) or np.any(variances < 0):
        return np.full(params.size, np.inf), False
    return params * np.sqrt(variances), True


_FD_STEP = 1e-5


def _newton_polish(
    objective: Callable[[Array], float],
    gradient: Callable[[Array], Array],
    theta: Array,
    *,
    analytic: bool,
) -> Array:
    """A few Newton steps after L-BFGS-B, which stops once progress is merely slow.

    Only steps that stay inside the bounds and lower the objective are taken, so this can never
    make a fit worse.
    """
    best = objective(theta)
    for _ in range(3):
        if np.any(np.abs(theta) >= LOG_BOUND - 1e-3):
            break
        if analytic:
            hessian = hessian_from_gradient(gradient, theta, step=1e-4)
        else:
            hessian = numerical_hessian(objective, theta, step=1e-4)
        try:
            np.linalg.cholesky(hessian)
            step = np.linalg.solve(hessian, gradient(theta))
        except np.linalg.LinAlgError:
            break
        candidate = theta - step
        if np.any(np.abs(candidate) > LOG_BOUND):
            break
        value = objective(candidate)
        if not value <= best:
            break
        theta, best = candidate, value
        if np.max(np.abs(step)) < 1e-10:
            break
    return theta


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


class CustomerModel:
    """Base for the maximum-likelihood models: fit loop, flags and JSON round trip.

    Subclasses define ``param_names``, ``_log_likelihood_rows(params, *data)`` returning per-row
    log-likelihoods, optionally ``_gradient_rows`` (per-row d/d(natural parameter)), and
    ``_initial_params(*data, weights)``.
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    kind: ClassVar[str] = ""

    def __init__(self, *, penalizer: float = 0.0, max_iter: int = 1000, tol: float = 1e-10):
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.tol = tol

    # -- to be provided by subclasses -------------------------------------------------------
    def _log_likelihood_rows(self, params: Array, *data: Array) -> Array:
        raise NotImplementedError

    _gradient_rows: Callable[..., Array] | None = None

    # Optional fast path: ``_totals(data, weights)`` returns a callable that maps natural
    # parameters to (total log-likelihood, its gradient, its Hessian when ``hessian=True``).
    _totals: Callable[..., Callable[..., tuple[float, Array, Array]]] | None = None

    def _initial_params(self, *data: Array, weights: Array) -> Array:
        raise NotImplementedError

    # -- fitting -----------------------------------------------------------------------------
    def _fit_rows(self, data: Sequence[Array], weights: Array, n_customers: int) -> Self:
        # The optimiser works on vectors of 3-4 numbers, where BLAS worker threads only add
        # wake-up latency (about 4 ms per L-BFGS-B step on a busy 2-core machine, i.e. most of
        # a fit's time); the large per-row passes do not go through BLAS.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit_rows_single_threaded(data, weights, n_customers)

    def _fit_rows_single_threaded(
        self, data: Sequence[Array], weights: Array, n_customers: int
    ) -> Self:
        total = float(weights.sum())
        scale = max(total, 1.0)

        def penalised(theta: Array) -> float:
            params = np.exp(theta)
            rows = self._log_likelihood_rows(params, *data)
            value = -float(weights @ rows) / scale + self.penalizer * float(params @ params)
            return value if math.isfinite(value) else 1e300

        def gradient(theta: Array) -> Array:
            params = np.exp(theta)
            if self._gradient_rows is None:
                # Central differences: forward ones are too noisy to pin flat directions (such
                # as Pareto/NBD's beta) down to the published three decimals.
                steps = np.eye(theta.size) * _FD_STEP
                return np.array(
                    [(penalised(theta + e) - penalised(theta - e)) / (2 * _FD_STEP) for e in steps]
                )
            grad_rows = self._gradient_rows(params, *data)
            grad = -(grad_rows @ weights) / scale + 2.0 * self.penalizer * params
            # Chain rule to log-parameters.
            grad = grad * params
            return np.nan_to_num(grad, nan=0.0, posinf=1e6, neginf=-1e6)

        totals = self._totals(data, weights) if self._totals is not None else None

        def objective(theta: Array) -> tuple[float, Array]:
            if totals is not None:
                params = np.exp(theta)
                ll, grad_ll, _ = totals(params)
                value = -ll / scale + self.penalizer * float(params @ params)
                grad = (-grad_ll / scale + 2.0 * self.penalizer * params) * params
                if not math.isfinite(value):
                    return 1e300, np.zeros_like(theta)
                return value, np.nan_to_num(grad, nan=0.0, posinf=1e6, neginf=-1e6)
            joint = getattr(self, "_value_and_gradient_rows", None)
            if joint is None:
                return penalised(theta), gradient(theta)
            params = np.exp(theta)
            rows, grad_rows = joint(params, *data)
            value = -float(weights @ rows) / scale + self.penalizer * float(params @ params)
            grad = (-(grad_rows @ weights) / scale + 2.0 * self.penalizer * params) * params
            if not math.isfinite(value):
                return 1e300, np.zeros_like(theta)
            return value, np.nan_to_num(grad, nan=0.0, posinf=1e6, neginf=-1e6)

        start = np.log(self._initial_params(*data, weights=weights))
        start = np.clip(start, -LOG_BOUND + 1, LOG_BOUND - 1)
        bounds = [(-LOG_BOUND, LOG_BOUND)] * start.size
        options = {"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-9}
        result = minimize(
            objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options
        )
        theta = result.x
        if self._gradient_rows is None:
            # With finite-difference gradients L-BFGS-B stops short in flat directions.
            theta = _newton_polish(penalised, gradient, theta, analytic=False)
        params = np.exp(theta)
        self.params_ = dict(zip(self.param_names, (float(p) for p in params), strict=True))
        self.n_customers_ = int(n_customers)
        self.converged_ = bool(result.success)
        self.n_iter_ = int(result.nit)

        if totals is not None:
            # Analytic Hessian: one pass over the data instead of 2 gradient passes per parameter.
            ll, grad_ll, hessian_natural = totals(params, hessian=True)
            self.log_likelihood_ = ll
            # Chain rule to log-parameters: H_log = P H P + diag(P grad), P = diag(params).
            hessian = hessian_natural * np.outer(params, params) + np.diag(params * grad_ll)
        else:
            self.log_likelihood_ = float(weights @ self._log_likelihood_rows(params, *data))
            hessian = self._hessian_by_differences(theta, data, weights)
        errors, hessian_ok = standard_errors(-hessian, params)
        self.standard_errors_ = dict(zip(self.param_names, (float(e) for e in errors), strict=True))

        warnings: list[str] = []
        if n_customers < MIN_RELIABLE_CUSTOMERS:
            warnings.append(f"only {n_customers} customers; estimates are rough")
        if not result.success:
            warnings.append(f"optimiser did not converge: {result.message}")
        if np.any(np.abs(theta) >= LOG_BOUND - 1e-6):
            warnings.append("a parameter reached its bound; the data cannot pin the model down")
        if not hessian_ok:
            warnings.append("information matrix is not positive definite; no standard errors")
        self.warnings_ = warnings
        self.reliable_ = not warnings
        return self

    def _hessian_by_differences(self, theta: Array, data: Sequence[Array], weights: Array) -> Array:
        """Hessian of the total log-likelihood in log-parameters, by finite differences."""
        if self._gradient_rows is not None:

            def total_grad(t: Array) -> Array:
                p = np.exp(t)
                return (self._gradient_rows(p, *data) @ weights) * p

            return hessian_from_gradient(total_grad, theta)

        def total_ll(t: Array) -> float:
            return float(weights @ self._log_likelihood_rows(np.exp(t), *data))

        return numerical_hessian(total_ll, theta)

    def _params(self) -> Array:
        try:
            return np.array([self.params_[name] for name in self.param_names])
        except AttributeError:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet") from None

    def log_likelihood_rows(self, *data: Any) -> Array:
        """Per-customer log-likelihood at the fitted parameters."""
        return self._log_likelihood_rows(self._params(), *(as_float_array(d) for d in data))

    # -- serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (non-finite numbers become None)."""
        out: dict[str, Any] = {
            "model": self.kind,
            "settings": {"penalizer": self.penalizer, "max_iter": self.max_iter, "tol": self.tol},
        }
        if hasattr(self, "params_"):
            out.update(
                params=dict(self.params_),
                standard_errors={k: _json_float(v) for k, v in self.standard_errors_.items()},
                log_likelihood=_json_float(self.log_likelihood_),
                n_customers=self.n_customers_,
                converged=self.converged_,
                reliable=self.reliable_,
                warnings=list(self.warnings_),
            )
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        if data.get("model") != cls.kind:
            raise ValueError(f"expected a {cls.kind!r} model, got {data.get('model')!r}")
        model = cls(**data.get("settings", {}))
        if "params" in data:
            model.params_ = {name: float(data["params"][name]) for name in cls.param_names}
            model.standard_errors_ = {
                k: (math.inf if v is None else float(v))
                for k, v in data.get("standard_errors", {}).items()
            }
            ll = data.get("log_likelihood")
            model.log_likelihood_ = math.nan if ll is None else float(ll)
            model.n_customers_ = int(data.get("n_customers", 0))
            model.converged_ = bool(data.get("converged", True))
            model.reliable_ = bool(data.get("reliable", True))
            model.warnings_ = list(data.get("warnings", []))
        return model

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"{type(self).__name__}({inner})"
        return f"{type(self).__name__}(unfitted)"


class TransactionModel(CustomerModel):
    """Models of the purchase process fitted on (frequency x, recency t_x, age T)."""

    def fit(self, frequency: Any, recency: Any, T: Any, *, weights: Any = None) -> Self:
        x, t_x, age = (as_float_array(v) for v in (frequency, recency, T))
        _check_rfm(x, t_x, age)
        if weights is None:
            levels, codes, counts = collapse_codes(x, t_x, age)
            x, t_x, age = (lv[c] for lv, c in zip(levels, codes, strict=True))
            self._seed_levels((x, t_x, age), levels, codes)
        else:
            counts = as_float_array(weights)
        return self._fit_rows((x, t_x, age), counts, round(float(counts.sum())))

    def _seed_levels(
        self, data: tuple[Array, Array, Array], levels: list[Array], codes: list[Array]
    ) -> None:
        """Hook: distinct values and codes of the collapsed columns, for models that use them."""

    def fit_summary(self, summary: pl.DataFrame) -> Self:
        """Fit on a frame from :func:`dangol.analytics.summary.summarize`."""
        return self.fit(summary["frequency"], summary["recency"], summary["T"])

    def _initial_params(self, x: Array, t_x: Array, age: Array, *, weights: Array) -> Array:
        mean_t = max(float(weights @ age) / weights.sum(), 1e-3)
        rate = max(float(weights @ x) / weights.sum(), 0.05) / mean_t
        # r = 1 with alpha = 1 / rate matches the mean purchase rate; the rest start neutral.
        return np.array([1.0, 1.0 / rate, 1.0, 1.0 if self.param_names[2] == "a" else mean_t])


def _check_rfm(x: Array, t_x: Array, age: Array) -> None:
    if not (x.shape == t_x.shape == age.shape):
        raise ValueError("frequency, recency and T must have the same length")
    if x.size == 0:
        raise ValueError("no customers to fit")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > age + 1e-9):
        raise ValueError("need frequency >= 0 and 0 <= recency <= T")
    if np.any((x == 0) & (t_x > 0)):
        raise ValueError("recency must be 0 for customers without repeat purchases")
