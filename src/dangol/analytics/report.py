"""One call from raw transactions to every model's figures, for ``dangol analyze``.

The result is plain JSON (floats, ints, strings, lists, dicts, None) so the command can print or
save it without knowing about numpy.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from .betageo import BetaGeoModel, ModifiedBetaGeoModel
from .churn import ChurnModel
from .gamma_gamma import GammaGammaModel
from .pareto_nbd import ParetoNBDModel
from .summary import Unit, as_date, summarize


def _number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _model_entry(model: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {k: _number(v) for k, v in model.params_.items()}
    entry["log_likelihood"] = _number(model.log_likelihood_)
    entry["reliable"] = bool(model.reliable_)
    entry["warnings"] = list(model.warnings_)
    return entry


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    if labels.min() == labels.max():
        return None
    return _number(roc_auc_score(labels, scores))


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return _number(np.corrcoef(a, b)[0, 1])


def analyze(
    transactions: pl.DataFrame,
    *,
    customer: str,
    at: str,
    amount: str | None = None,
    calibration_end: dt.date | dt.datetime | str,
    holdout_end: dt.date | dt.datetime | str | None = None,
    unit: Unit = "W",
) -> dict[str, Any]:
    """Fit BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma on the calibration period.

    With ``holdout_end``, also compare their holdout predictions with what happened, and score
    "any purchase in the holdout" for every customer by the churn model, by recency alone and by
    BG/NBD's P(at least one purchase), as ROC AUCs. Log-likelihoods are in ``unit``.
    """
    summary = summarize(
        transactions,
        customer=customer,
        at=at,
        amount=amount,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        unit=unit,
    )
    if summary.height == 0:
        raise ValueError("no customers bought on or before calibration_end")
    rfm = (summary["frequency"], summary["recency"], summary["T"])
    bgnbd = BetaGeoModel().fit(*rfm)
    mbgnbd = ModifiedBetaGeoModel().fit(*rfm)
    pareto = ParetoNBDModel().fit(*rfm)
    result: dict[str, Any] = {
        "customers": summary.height,
        "repeat_customers": int((summary["frequency"] > 0).sum()),
        "unit": unit,
        "calibration_end": as_date(calibration_end).isoformat(),
        "bgnbd": _model_entry(bgnbd),
        "mbgnbd": _model_entry(mbgnbd),
        "pareto_nbd": _model_entry(pareto),
        "gamma_gamma": None,
    }
    if amount is not None and ((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).any():
        spend = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
        result["gamma_gamma"] = _model_entry(spend)
    if holdout_end is None:
        return result

    horizon = float(summary["holdout_duration"][0])
    actual = summary["holdout_frequency"].to_numpy().astype(np.float64)
    predicted = {
        name: model.conditional_expected_number_of_purchases(horizon, *rfm)
        for name, model in (("bgnbd", bgnbd), ("mbgnbd", mbgnbd), ("pareto", pareto))
    }
    active = (actual > 0).astype(int)
    since_last = (summary["T"] - summary["recency"]).to_numpy()
    churn_model_auc = _churn_model_auc(
        transactions,
        customer=customer,
        at=at,
        amount=amount,
        calibration_end=as_date(calibration_end),
        summary=summary,
        active=active,
    )
    result["holdout_end"] = as_date(holdout_end).isoformat()
    result["holdout"] = {
        "duration": horizon,
        "actual_total": float(actual.sum()),
        "bgnbd_predicted_total": float(predicted["bgnbd"].sum()),
        "mbgnbd_predicted_total": float(predicted["mbgnbd"].sum()),
        "pareto_predicted_total": float(predicted["pareto"].sum()),
        "bgnbd_correlation": _correlation(actual, predicted["bgnbd"]),
        "mbgnbd_correlation": _correlation(actual, predicted["mbgnbd"]),
        "pareto_correlation": _correlation(actual, predicted["pareto"]),
        "active_share": float(active.mean()),
        "churn_auc": {
            "model": churn_model_auc,
            "recency": _auc(active, -since_last),
            "bgnbd": _auc(active, bgnbd.probability_of_purchase(horizon, *rfm)),
        },
    }
    return result


def _churn_model_auc(
    transactions: pl.DataFrame,
    *,
    customer: str,
    at: str,
    amount: str | None,
    calibration_end: dt.date,
    summary: pl.DataFrame,
    active: np.ndarray,
) -> float | None:
    """AUC of the product's churn score (default 60-day label) against "bought in the holdout".

    The model is trained on calibration data only; its ranking is what is compared, so the
    label horizon need not equal the holdout's length.
    """
    model = ChurnModel().fit(
        transactions, customer=customer, at=at, amount=amount, cutoff=calibration_end
    )
    scored = model.predict(
        transactions, customer=customer, at=at, amount=amount, cutoff=calibration_end
    )
    aligned = summary.select(customer).join(scored, on=customer, how="left")
    churn = aligned["churn_probability"].fill_null(0.5).to_numpy()
    return _auc(active, -churn)
