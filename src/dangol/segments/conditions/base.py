"""The condition registry: every rule leaf is one registered condition.

A condition declares its parameters (validated before any query runs), compiles to a Django ``Q``
over ``Customer`` that is one set-based subquery, and can say what value a given customer has,
for "why is this customer here". Another app adds conditions by calling ``register`` from its
``AppConfig.ready`` (loyalty points, campaigns), without touching the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

OPS: dict[str, tuple[str, str, Callable[[Any, Any], bool]]] = {
    "gte": ("이상", "at least", lambda a, b: a >= b),
    "lte": ("이하", "at most", lambda a, b: a <= b),
    "gt": ("초과", "more than", lambda a, b: a > b),
    "lt": ("미만", "less than", lambda a, b: a < b),
    "eq": ("", "exactly", lambda a, b: a == b),
}
# Django lookup of each comparison.
LOOKUPS = {"gte": "gte", "lte": "lte", "gt": "gt", "lt": "lt", "eq": "exact"}
# Longest window a rule may look back or ahead: ten years.
MAX_DAYS = 3650


@dataclass(frozen=True)
class Param:
    """One parameter of a condition. ``kind``: int, float, choice, choices, ids or bool."""

    name: str
    kind: str
    ko: str
    en: str
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    choices: Sequence[str] | Callable[[], Sequence[str]] = ()
    default: Any = None

    def allowed(self) -> Sequence[str]:
        return self.choices() if callable(self.choices) else self.choices


@dataclass
class EvalContext:
    """Everything a condition may read besides its parameters: the shop, the time, the scores."""

    shop: Any
    now: dt.datetime = field(default_factory=timezone.now)
    latest_run: Any = None
    _cache: dict = field(default_factory=dict)

    @property
    def today(self) -> dt.date:
        return timezone.localtime(self.now).date()

    def day_start(self, day: dt.date) -> dt.datetime:
        """The first moment of a local (Seoul) calendar day, as an aware datetime."""
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    def days_ago_start(self, days: int) -> dt.datetime:
        """Start of the window "the last ``days`` days", today included."""
        return self.day_start(self.today - dt.timedelta(days=days - 1))


class Condition:
    key: str = ""
    group: str = ""
    ko: str = ""
    en: str = ""
    params: tuple[Param, ...] = ()
    # "number", "date", "text" or "bool": how the explanation shows the customer's value.
    value_kind: str = "number"

    def q(self, params: dict[str, Any], ctx: EvalContext) -> Q:
        raise NotImplementedError

    def narrow(self, params: dict[str, Any], ctx: EvalContext) -> tuple[str, QuerySet, Q] | None:
        """Optionally, the condition as a filter on a narrow one-row-per-customer table:
        ``(table key, that table's rows for the shop, Q over them)``, meaning "customers with a
        row that passes". Only for conditions that a customer without a row fails. The engine
        merges the leaves of one group that read the same table into one subquery, so "visits
        = 1 and last visit 30+ days ago" is one pass over the per-customer totals."""
        return None

    def values(
        self, params: dict[str, Any], ctx: EvalContext, customer_ids: Sequence[int]
    ) -> dict[int, Any]:
        """The measured value per customer (missing: no value, e.g. never visited)."""
        raise NotImplementedError

    def warnings(self, params: dict[str, Any], ctx: EvalContext) -> list[tuple[str, str]]:
        """Problems that do not stop evaluation (a deleted product), as (ko, en)."""
        return []

    def describe(self, params: dict[str, Any]) -> tuple[str, str]:
        """The condition in words (ko, en), e.g. "최근 30일 방문 2회 이상"."""
        raise NotImplementedError


REGISTRY: dict[str, Condition] = {}


def register(condition: Condition) -> Condition:
    if not condition.key or condition.key in REGISTRY:
        raise ValueError(f"condition key missing or taken: {condition.key!r}")
    REGISTRY[condition.key] = condition
    return condition


def op_param(minimum: float = 0, maximum: float | None = None, kind: str = "int") -> tuple:
    return (
        Param("op", "choice", "비교", "comparison", choices=tuple(OPS)),
        Param("value", kind, "값", "value", minimum=minimum, maximum=maximum),
    )


def window_param(required: bool = False) -> Param:
    return Param(
        "days", "int", "기간(일)", "window (days)", required=required, minimum=1, maximum=MAX_DAYS
    )


def compare(op: str, a: Any, b: Any) -> bool:
    return OPS[op][2](a, b)


def op_words(op: str, value: Any, unit_ko: str = "", unit_en: str = "") -> tuple[str, str]:
    ko_word, en_word, _ = OPS[op]
    ko = f"{value}{unit_ko} {ko_word}".strip()
    en = f"{en_word} {value}{(' ' + unit_en) if unit_en else ''}"
    return ko, en
