"""Gamma-Gamma model of spend per purchase occasion (Fader, Hardie & Lee 2005, "RFM and CLV").

Each occasion's value is Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers. Only repeat
buyers (x > 0) carry information; their observed mean repeat value m is the data. The model
assumes spend is independent of purchase frequency, which is worth checking per shop
(``frequency_spend_correlation``).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from scipy.special import digamma, gammaln

from .fitting import Array, CustomerModel, as_float_array, collapse


class GammaGammaModel(CustomerModel):
    """``fit(frequency, monetary_value)`` then ``params_`` = {p, q, gamma}."""

    kind = "gamma_gamma"
    param_names = ("p", "q", "gamma")

    def fit(self, frequency: Any, monetary_value: Any, *, weights: Any = None) -> Self:
        x, m = as_float_array(frequency), as_float_array(monetary_value)
        if x.shape != m.shape:
            raise ValueError("frequency and monetary_value must have the same length")
        keep = (x > 0) & (m > 0)
        x, m = x[keep], m[keep]
        if x.size == 0:
            raise ValueError("Gamma-Gamma needs at least one repeat buyer with positive spend")
        if weights is None:
            (x, m), counts = collapse(x, m)
        else:
            counts = as_float_array(weights)[keep]
        self.frequency_spend_correlation_ = (
            float(np.corrcoef(x, m)[0, 1])
            if x.size > 2 and np.ptp(x) > 0 and np.ptp(m) > 0
            else 0.0
        )
        self._fit_rows((x, m), counts, round(float(counts.sum())))
        if self.params_["q"] <= 1.0:
            self.warnings_.append("q <= 1: spend is too heavy-tailed for a finite mean")
            self.reliable_ = False
        return self

    def fit_summary(self, summary: Any) -> Self:
        return self.fit(summary["frequency"], summary["monetary_value"])

    def _initial_params(self, x: Array, m: Array, *, weights: Array) -> Array:
        mean = max(float(weights @ m) / weights.sum(), 1e-6)
        # q = 3 keeps the mean finite; gamma then matches the observed average spend for p = 1.
        return np.array([1.0, 3.0, 2.0 * mean])

    def _log_likelihood_rows(self, params: Array, x: Array, m: Array) -> Array:
        p, q, gamma = params
        px = p * x
        return (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(gamma)
            + (px - 1.0) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(gamma + x * m)
        )

    def _gradient_rows(self, params: Array, x: Array, m: Array) -> Array:
        p, q, gamma = params
        px = p * x
        psi = digamma(px + q)
        log_total = np.log(gamma + x * m)
        d_p = x * (psi - digamma(px) + np.log(m) + np.log(x) - log_total)
        d_q = psi - digamma(q) + np.log(gamma) - log_total
        d_gamma = q / gamma - (px + q) / (gamma + x * m)
        return np.vstack([d_p, d_q, d_gamma])

    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> Array:
        """E[value of a future occasion | x, m]; the population mean when x = 0.

        It is a weighted average of the population mean p*gamma/(q-1) and the customer's own
        mean, the latter weighing more the more repeat purchases back it. The population mean
        needs q > 1; a fit with q <= 1 (heavy-tailed spend, flagged at fit time) uses q - 1 =
        0.5 so that predictions stay finite.
        """
        p, q, gamma = self._params()
        x = as_float_array(frequency)
        m = np.where(x > 0, as_float_array(monetary_value), 0.0)
        return (gamma + m * x) * p / (p * x + max(q - 1.0, 0.5))

    def population_mean_spend(self) -> float:
        p, q, gamma = self._params()
        return float(p * gamma / max(q - 1.0, 0.5))
