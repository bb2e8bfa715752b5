"""Churn: P(no purchase in the next H days), learnt from the shop's own history.

Training rows are features at earlier cut-offs c with the label "no purchase in (c, c + H]",
so nothing from after today leaks in. Logistic regression and gradient boosting compete on a
backtest (train on older cut-offs, score the latest one); the winner is refitted on everything
with sigmoid calibration so that "70 %" means about 70 %. Shops with too little history get a
transparent rule instead, marked ``not_enough_data``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Self

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from .features import FEATURES, customer_features, feature_matrix
from .summary import as_date, occasions

DEFAULT_HORIZON_DAYS = 60
MIN_CUSTOMERS = 50
AT_RISK_THRESHOLD = 0.5
# Training rows (customers x cut-offs) beyond which the model learns from a sample of customers:
# 80,000 rows pin a 19-feature model down (at a million synthetic customers the out-of-time AUC
# was 0.927 with 80,000 and with 120,000), and more only cost time.
MAX_TRAINING_ROWS = 80_000
# Scoring splits its rows over the cores from this many rows per core on.
MIN_ROWS_PER_THREAD = 50_000


def expected_calibration_error(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10
) -> float:
    """Mean |predicted - observed| over equal-width probability bins, weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(probabilities[mask].mean() - labels[mask].mean())
    return float(error)


def top_decile_lift(labels: np.ndarray, scores: np.ndarray) -> float:
    """Churn rate among the 10 % highest scores divided by the overall churn rate."""
    base = labels.mean()
    if base == 0:
        return 1.0
    top = np.argsort(-scores, kind="stable")[: max(1, math.ceil(0.1 * labels.size))]
    return float(labels[top].mean() / base)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    return float(roc_auc_score(labels, scores)) if 0 < labels.sum() < labels.size else None


def rule_based_churn(features: pl.DataFrame) -> np.ndarray:
    """The fallback rule: r = days since last visit / typical gap, P(churn) = 1/(1+e^(-2(r-1.5))).

    Someone due today (r = 1) scores 27 %, half a gap late (r = 1.5) 50 %, three gaps late 95 %.
    """
    ratio = features["overdue_ratio"].to_numpy()
    return 1.0 / (1.0 + np.exp(-2.0 * (ratio - 1.5)))


# The linear model sees only the recency/frequency core: the habit and trend columns help the
# trees and the reasons, but make a linear fit chase noise (seen on CDNOW backtests).
CORE_FEATURES = (
    "frequency",
    "recency_days",
    "age_days",
    "days_since_last",
    "visits_per_month",
    "total_spend",
    "bgnbd_p_purchase",
    "bgnbd_expected",
)
_CORE_INDEX = [FEATURES.index(name) for name in CORE_FEATURES]


def _core_log(x: np.ndarray) -> np.ndarray:
    # Counts and amounts are heavy-tailed; log1p makes them fit a linear model.
    return np.log1p(np.abs(x[:, _CORE_INDEX]))


def _candidates(random_state: int) -> dict[str, Any]:
    logistic = make_pipeline(
        FunctionTransformer(_core_log), StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)
    )
    boosting = HistGradientBoostingClassifier(
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=random_state,
    )
    return {"logistic_regression": logistic, "gradient_boosting": boosting}


def _calibrated(estimator: Any, groups: np.ndarray, labels: np.ndarray) -> CalibratedClassifierCV:
    folds = min(3, len(np.unique(groups)))
    splits = list(GroupKFold(n_splits=folds).split(labels, labels, groups))
    # One model refitted on all rows, calibrated on the folds' out-of-fold scores: scoring
    # costs one model instead of an average of one per fold, with the same AUC and calibration
    # on the backtests (CDNOW, the demo shop, a million synthetic customers).
    return CalibratedClassifierCV(estimator, method="sigmoid", cv=splits, ensemble=False)


def _sample_customers(
    transactions: pl.DataFrame, days: pl.DataFrame, customer: str, share: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Transactions and occasions of a deterministic ``share`` of the customers (by id hash)."""
    buckets = 1_000_003
    ids = days.select(pl.col(customer).unique())
    keep = ids.filter(pl.col(customer).hash(seed=0) % buckets < round(share * buckets))[customer]
    return (
        transactions.filter(pl.col(customer).is_in(keep.implode())),
        days.filter(pl.col(customer).is_in(keep.implode())),
    )


def _predict_in_chunks(estimator: Any, x: np.ndarray) -> np.ndarray:
    """P(churn) for every row, large inputs in row chunks on as many threads as there are cores.

    Each thread runs the model single-threaded: trees are evaluated without the interpreter
    lock, so the chunks run side by side without OpenMP's worker threads (see ``ChurnModel``).
    Rows are scored independently, so the result is the same as one call.
    """

    def score(rows: np.ndarray) -> np.ndarray:
        with threadpool_limits(limits=1, user_api="openmp"):
            return estimator.predict_proba(rows)[:, 1]

    workers = min(_cores(), x.shape[0] // MIN_ROWS_PER_THREAD)
    if workers <= 1:
        return score(x)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return np.concatenate(list(pool.map(score, np.array_split(x, workers))))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ChurnModel:
    """``fit(transactions, customer=, at=, amount=, cutoff=)`` then ``predict(...)``.

    ``simplicity_margin``: boosting replaces the logistic regression only if its backtest AUC
    is higher by at least this much.

    Gradient boosting runs single-threaded: the scoring shares its machine (web server, other
    shops' runs), and OpenMP's worker threads made fits up to ten times slower whenever the
    cores were busy, against at most 1.5 times faster on an idle two-core machine.

    Large shops: when customers x training cut-offs would exceed ``MAX_TRAINING_ROWS``, the
    training rows (and the BG/NBD features inside them) come from a fixed sample of customers,
    chosen by a hash of the customer id so that the same data always give the same sample;
    ``training_customers_`` says how many were used. ``predict`` always scores every customer.

    Learnt values: ``chosen_`` (model name or "rule"), ``not_enough_data_``, ``backtest_``
    (AUC, top-decile lift, ECE of the chosen model on the latest training cut-off, with the
    "days since last purchase" and "BG/NBD P(purchase in H)" baselines), ``training_horizon_days_``
    (H shortened when the history is too short for H itself; probabilities refer to it).
    """

    def __init__(
        self,
        *,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
        min_customers: int = MIN_CUSTOMERS,
        n_cutoffs: int = 4,
        cutoff_step_days: int = 30,
        simplicity_margin: float = 0.005,
        random_state: int = 0,
    ):
        self.horizon_days = horizon_days
        self.min_customers = min_customers
        self.n_cutoffs = n_cutoffs
        self.cutoff_step_days = cutoff_step_days
        self.simplicity_margin = simplicity_margin
        self.random_state = random_state

    def _training_cutoffs(self, first_day: dt.date, cutoff: dt.date) -> tuple[int, list[dt.date]]:
        span = (cutoff - first_day).days
        horizon = max(7, min(self.horizon_days, span // 2))
        latest = cutoff - dt.timedelta(days=horizon)
        # Each training cut-off needs some history behind it (a quarter of the span, >= 2 weeks).
        earliest = first_day + dt.timedelta(days=max(14, span // 4))
        cutoffs = [
            latest - dt.timedelta(days=k * self.cutoff_step_days) for k in range(self.n_cutoffs)
        ]
        return horizon, [c for c in cutoffs if c >= earliest] or [latest]

    def fit(
        self,
        transactions: pl.DataFrame,
        *,
        customer: str,
        at: str,
        amount: str | None = None,
        cutoff: dt.date | dt.datetime | str,
        days: pl.DataFrame | None = None,
    ) -> Self:
        """Learn from ``transactions`` up to the end of day ``cutoff``.

        ``days``: the transactions' customer-day table (``occasions`` or
        ``features.customer_day_table`` of the same columns), if the caller already has it;
        it saves sorting every line again.
        """
        with threadpool_limits(limits=1, user_api="openmp"):
            return self._fit(
                transactions, customer=customer, at=at, amount=amount, cutoff=cutoff, days=days
            )

    def _fit(
        self,
        transactions: pl.DataFrame,
        *,
        customer: str,
        at: str,
        amount: str | None,
        cutoff: dt.date | dt.datetime | str,
        days: pl.DataFrame | None,
    ) -> Self:
        day = as_date(cutoff)
        if days is None:
            days = occasions(transactions, customer=customer, at=at, amount=amount)
        days = days.filter(pl.col("_day") <= day)
        self.customer_ = customer
        self.backtest_: dict[str, Any] = {}
        self.chosen_ = "rule"
        self.not_enough_data_ = True
        self.training_horizon_days_ = self.horizon_days
        if days.height == 0 or days[customer].n_unique() < self.min_customers:
            return self
        horizon, cutoffs = self._training_cutoffs(days["_day"].min(), day)
        self.training_horizon_days_ = horizon
        n_customers = days[customer].n_unique()
        self.training_customers_ = n_customers
        if n_customers * len(cutoffs) > MAX_TRAINING_ROWS:
            transactions, days = _sample_customers(
                transactions, days, customer, MAX_TRAINING_ROWS / (n_customers * len(cutoffs))
            )
            self.training_customers_ = days[customer].n_unique()
        rows = []
        for k, c in enumerate(cutoffs):
            feats = customer_features(
                transactions,
                customer=customer,
                at=at,
                amount=amount,
                cutoff=c,
                horizon_days=horizon,
            )
            future = (
                days.filter(
                    (pl.col("_day") > c) & (pl.col("_day") <= c + dt.timedelta(days=horizon))
                )
                .select(customer)
                .unique()
                .with_columns(pl.lit(0).alias("churned"))
            )
            rows.append(
                feats.join(future, on=customer, how="left").with_columns(
                    pl.col("churned").fill_null(1), pl.lit(k).alias("_cutoff")
                )
            )
        data = pl.concat(rows)
        latest = data.filter(pl.col("_cutoff") == 0)
        labels = data["churned"].to_numpy()
        if latest.height < self.min_customers or not 0 < labels.sum() < labels.size:
            return self
        self.not_enough_data_ = False
        groups = data[customer].hash().to_numpy()
        self.backtest_ = self._backtest(data, groups)
        self.chosen_ = self.backtest_["chosen"]
        estimator = _candidates(self.random_state)[self.chosen_]
        self.estimator_ = _calibrated(estimator, groups, labels).fit(feature_matrix(data), labels)
        return self

    def _backtest(self, data: pl.DataFrame, groups: np.ndarray) -> dict[str, Any]:
        is_latest = (data["_cutoff"] == 0).to_numpy()
        if is_latest.all():
            # A single cut-off: hold out a third of the customers instead of the latest cut-off.
            is_latest = (groups % 3) == 0
        train, valid = ~is_latest, is_latest
        x, y = feature_matrix(data), data["churned"].to_numpy()
        report: dict[str, Any] = {
            "n_train": int(train.sum()),
            "n_validation": int(valid.sum()),
            "churn_rate": float(y[valid].mean()),
            "candidates": {},
        }
        best_name, best_auc = "logistic_regression", -1.0
        if 0 < y[train].sum() < train.sum() and 0 < y[valid].sum() < valid.sum():
            for name, estimator in _candidates(self.random_state).items():
                model = _calibrated(estimator, groups[train], y[train]).fit(x[train], y[train])
                p = model.predict_proba(x[valid])[:, 1]
                auc = _auc(y[valid], p) or 0.5
                report["candidates"][name] = {
                    "auc": auc,
                    "top_decile_lift": top_decile_lift(y[valid], p),
                    "ece": expected_calibration_error(y[valid], p),
                }
                # Candidates are ordered simplest first; a more complex one must win clearly,
                # since an AUC difference below about 0.005 is within backtest noise.
                if auc > best_auc + (self.simplicity_margin if best_auc >= 0 else 0.0):
                    best_name, best_auc = name, auc
        report["chosen"] = best_name
        report.update(report["candidates"].get(best_name, {}))
        valid_frame = data.filter(pl.Series(valid))
        report["baselines"] = {
            "days_since_last": _auc(y[valid], valid_frame["days_since_last"].to_numpy()),
            "bgnbd": _auc(y[valid], -valid_frame["bgnbd_p_purchase"].to_numpy()),
        }
        return report

    def predict(
        self,
        transactions: pl.DataFrame,
        *,
        customer: str,
        at: str,
        amount: str | None = None,
        cutoff: dt.date | dt.datetime | str,
        threshold: float = AT_RISK_THRESHOLD,
        features: pl.DataFrame | None = None,
    ) -> pl.DataFrame:
        """Features plus ``churn_probability``, ``at_risk`` and ``not_enough_data`` per customer.

        ``features``: ``customer_features`` of the same transactions at ``cutoff`` with
        ``horizon_days=training_horizon_days_``, if the caller already has them.
        """
        if features is not None:
            feats = features
        else:
            feats = customer_features(
                transactions,
                customer=customer,
                at=at,
                amount=amount,
                cutoff=cutoff,
                horizon_days=self.training_horizon_days_,
            )
        if feats.height == 0:
            return feats.with_columns(
                pl.lit(None, pl.Float64).alias("churn_probability"),
                pl.lit(None, pl.Boolean).alias("at_risk"),
                pl.lit(None, pl.Boolean).alias("not_enough_data"),
            )
        if self.not_enough_data_:
            probability = rule_based_churn(feats)
        else:
            probability = _predict_in_chunks(self.estimator_, feature_matrix(feats))
        probability = np.nan_to_num(probability, nan=0.5)
        return feats.with_columns(
            pl.Series("churn_probability", probability),
            pl.Series("at_risk", probability >= threshold),
            pl.lit(self.not_enough_data_).alias("not_enough_data"),
        )


__all__ = [
    "FEATURES",
    "ChurnModel",
    "expected_calibration_error",
    "rule_based_churn",
    "top_decile_lift",
]
