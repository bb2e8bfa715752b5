"""Customer lifetime value: expected purchases x expected spend, discounted month by month.

Defaults (documented product choices):
- horizon 12 months: a small shop plans a year ahead, and beyond that the models' extrapolation
  of today's customer base is mostly guesswork;
- discount 1 % per month (about 12.7 % a year): roughly a small business's cost of credit in
  Korea, and the value the literature's examples use;
- a month is 365.25 / 12 days, converted to the model's time unit.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from .fitting import Array, as_float_array
from .summary import unit_days

DEFAULT_MONTHS = 12
DEFAULT_MONTHLY_DISCOUNT = 0.01
DAYS_PER_MONTH = 365.25 / 12


class _PurchaseModel(Protocol):
    def conditional_expected_number_of_purchases(
        self, t: float, frequency: Any, recency: Any, T: Any
    ) -> Array: ...


class _SpendModel(Protocol):
    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> Array: ...


def customer_lifetime_value(
    *,
    purchase_model: _PurchaseModel,
    spend_model: _SpendModel,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary_value: Any,
    months: int = DEFAULT_MONTHS,
    monthly_discount: float = DEFAULT_MONTHLY_DISCOUNT,
    unit: str = "W",
) -> Array:
    """Discounted expected spend over the next ``months`` months, per customer.

    Purchases expected in month m (the increment of the conditional expectation) are valued at
    the Gamma-Gamma expected spend and discounted by (1 + monthly_discount)^m, i.e. at the
    month's end, which errs on the prudent side.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if monthly_discount < 0:
        raise ValueError("monthly_discount cannot be negative")
    x, t_x, age = (as_float_array(v) for v in (frequency, recency, T))
    spend = spend_model.conditional_expected_average_profit(x, as_float_array(monetary_value))
    month = DAYS_PER_MONTH / unit_days(unit)
    value = np.zeros_like(x)
    previous = np.zeros_like(x)
    for m in range(1, months + 1):
        cumulative = purchase_model.conditional_expected_number_of_purchases(m * month, x, t_x, age)
        value += (cumulative - previous) / (1.0 + monthly_discount) ** m
        previous = cumulative
    return value * spend
