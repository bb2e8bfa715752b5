"""The segment builder's form, both ways: posted rows → rule JSON, and a stored rule → rows.

The builder shows one level: "all" or "any" over a list of rows, each row one condition that may
be negated ("제외"). Field names are ``c-<row>-condition``, ``c-<row>-not``, ``c-<row>-<param>``,
plus ``c-<row>-was``: the condition the row's inputs were drawn for, so that picking another
condition starts from that condition's defaults instead of the old inputs.

Problems come back from the engine with a path ("all.1.not.value"); ``Builder.apply`` puts each
one next to its row and field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.http import QueryDict
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from dangol.sales.selectors import product_categories, product_list
from dangol.segments.conditions import REGISTRY, Condition, Param
from dangol.segments.conditions.profile import CHANNELS
from dangol.segments.conditions.purchases import MEASURE_WORDS
from dangol.segments.rules import Group, Leaf, Node, Not, Problem, RuleError, parse_rule
from dangol.shops.models import Shop
from dangol.shops.selectors import store_list

MAX_ROWS = 20
MATCHES = ("all", "any")
ROW_KEY = re.compile(r"^c-(\d{1,3})-condition$")

GROUPS = {
    "visits": gettext_lazy("Visits"),
    "spend": gettext_lazy("Spend"),
    "products": gettext_lazy("Products"),
    "habits": gettext_lazy("Habits"),
    "scores": gettext_lazy("Scores"),
    "birthday": gettext_lazy("Birthday"),
    "consent": gettext_lazy("Consent"),
    "store": gettext_lazy("Store"),
    "loyalty": gettext_lazy("Loyalty"),
}
OP_LABELS = {
    "gte": gettext_lazy("or more (≥)"),
    "lte": gettext_lazy("or less (≤)"),
    "gt": gettext_lazy("more than (>)"),
    "lt": gettext_lazy("less than (<)"),
    "eq": gettext_lazy("exactly (=)"),
}
# What a freshly picked condition starts with; the owner changes what they need.
DEFAULTS: dict[str, dict[str, Any]] = {
    "visits": {"op": "gte", "value": 2, "days": 30},
    "spend": {"op": "gte", "value": 100_000, "days": 90},
    "avg_ticket": {"op": "gte", "value": 10_000},
    "days_since_last_visit": {"op": "gte", "value": 30},
    "first_visit_days_ago": {"op": "lt", "value": 30},
    "rank": {"measure": "total_spend", "top_percent": 10},
    "bought": {"days": 90},
    "churn_probability": {"op": "gte", "value": 0.7},
    "p_alive": {"op": "lte", "value": 0.3},
    "clv": {"op": "gte", "value": 100_000},
    "overdue_ratio": {"op": "gte", "value": 2},
    "next_visit_within": {"days": 7},
    "weekday_habit": {"weekday": "4"},
    "birthday_within": {"days": 7},
    "birthday_month": {"month": 0},
    "consent": {"channel": "sms", "granted": True},
    "points_balance": {"op": "gte", "value": 1000},
    "stamps": {"op": "gte", "value": 5},
    "tier_level": {"op": "gte", "value": 1},
}


def is_korean() -> bool:
    return (get_language() or "ko").startswith("ko")


def pick(ko: str, en: str) -> str:
    return ko if is_korean() else en


# ── the shop's own options (products, stores, categories), loaded once per request ──────────


class ShopOptions:
    def __init__(self, shop: Shop):
        self.shop = shop

    @cached_property
    def products(self) -> list[tuple[str, str]]:
        rows = product_list(shop=self.shop)
        return [
            (str(pk), name if active else _("%(name)s (not on sale)") % {"name": name})
            for pk, name, active in rows.values_list("pk", "name", "active")
        ]

    @cached_property
    def stores(self) -> list[tuple[str, str]]:
        rows = store_list(shop=self.shop)
        return [(str(pk), name) for pk, name in rows.values_list("pk", "name")]

    @cached_property
    def categories(self) -> list[tuple[str, str]]:
        return [(c, c) for c in product_categories(shop=self.shop)]


def condition_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The condition picker: conditions grouped by ``Condition.group``, in registry order."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for key, condition in REGISTRY.items():
        grouped.setdefault(condition.group, []).append((key, pick(condition.ko, condition.en)))
    return [(str(GROUPS.get(g, g)), items) for g, items in grouped.items()]


def _option_label(condition: Condition, spec: Param, value: str) -> str:
    if spec.name == "op":
        return str(OP_LABELS.get(value, value))
    if spec.name == "months" and value.isdigit() and 1 <= int(value) <= 12:
        return str(MONTHS[int(value)])
    if spec.name == "weekday" and value.isdigit() and 1 <= int(value) <= 7:
        return str(WEEKDAYS[int(value) - 1])
    if spec.name == "measure" and value in MEASURE_WORDS:
        return pick(*MEASURE_WORDS[value])
    if spec.name == "channel" and value in CHANNELS:
        return str(CHANNELS[value].label)
    labels = dict(getattr(condition, "choices", ()) or ())
    if value in labels:
        return str(labels[value])
    return value


def _options(condition: Condition, spec: Param, shop: ShopOptions) -> list[tuple[str, str]]:
    if spec.kind == "ids":
        return shop.stores if spec.name == "stores" else shop.products
    allowed = [str(a) for a in spec.allowed()]
    if not allowed and spec.name == "categories":
        return shop.categories
    return [(a, _option_label(condition, spec, a)) for a in allowed]


def default_params(condition: Condition) -> dict[str, Any]:
    preset = DEFAULTS.get(condition.key, {})
    out: dict[str, Any] = {}
    for spec in condition.params:
        if spec.name in preset:
            out[spec.name] = preset[spec.name]
        elif spec.default is not None:
            out[spec.name] = spec.default
        elif spec.name == "op":
            out[spec.name] = "gte"
        elif spec.kind == "choice" and spec.required and spec.allowed():
            out[spec.name] = str(spec.allowed()[0])
        elif spec.kind in ("int", "float") and spec.required:
            out[spec.name] = spec.minimum if spec.minimum is not None else 0
    return out


# ── the builder's rows ──────────────────────────────────────────────────────────────────────


@dataclass
class FieldView:
    name: str
    kind: str
    label: str
    input_name: str
    value: Any  # str for inputs and selects, list[str] for multiple choices, bool for checkboxes
    options: list[tuple[str, str]] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    required: bool = True
    errors: list[str] = field(default_factory=list)

    @property
    def step(self) -> str:
        return "1" if self.kind == "int" else "any"

    @property
    def many(self) -> bool:
        return self.kind in ("choices", "ids")

    @property
    def as_checkboxes(self) -> bool:
        """Short lists (months, weekdays, statuses) as checkboxes; products as a list box."""
        return self.many and self.kind == "choices" and len(self.options) <= 12

    @property
    def error_id(self) -> str:
        return f"err-{self.input_name}"


@dataclass
class RowView:
    index: int
    condition: str
    negated: bool = False
    fields: list[FieldView] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"c-{self.index}"

    @property
    def error_id(self) -> str:
        return f"err-c-{self.index}-condition"

    def field_named(self, name: str) -> FieldView | None:
        return next((f for f in self.fields if f.name == name), None)


def _shown(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def _row_fields(
    condition: Condition, index: int, values: dict[str, Any], shop: ShopOptions
) -> list[FieldView]:
    fields = []
    for spec in condition.params:
        value = _shown(values.get(spec.name))
        if spec.kind in ("choices", "ids") and not isinstance(value, list):
            value = []
        if spec.kind == "bool":
            value = bool(values.get(spec.name))
        options = (
            _options(condition, spec, shop) if spec.kind in ("choice", "choices", "ids") else []
        )
        if spec.kind == "ids":  # keep deleted products/stores visible so they can be unticked
            known = {v for v, _label in options}
            gone = [(v, _("Deleted (#%(id)s)") % {"id": v}) for v in value if v not in known]
            options = [*options, *gone]
        fields.append(
            FieldView(
                name=spec.name,
                kind=spec.kind,
                label=pick(spec.ko, spec.en),
                input_name=f"c-{index}-{spec.name}",
                value=value,
                options=options,
                minimum=spec.minimum,
                maximum=spec.maximum,
                required=spec.required,
            )
        )
    return fields


@dataclass
class Builder:
    match: str = "all"
    rows: list[RowView] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rule: dict[str, Any] | None = None
    # rule index → row index (empty rows are left out of the rule)
    rule_rows: list[int] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(
            self.errors or any(r.errors or any(f.errors for f in r.fields) for r in self.rows)
        )

    def row(self, index: int) -> RowView | None:
        return next((r for r in self.rows if r.index == index), None)

    def add_row(self) -> None:
        if len(self.rows) >= MAX_ROWS:
            self.errors.append(_("At most %(n)s conditions.") % {"n": MAX_ROWS})
            return
        self.rows.append(RowView(index=len(self.rows), condition=""))

    def remove_row(self, index: int) -> None:
        self.rows = [r for r in self.rows if r.index != index]

    def renumber(self) -> None:
        for i, row in enumerate(self.rows):
            row.index = i
            for f in row.fields:
                f.input_name = f"c-{i}-{f.name}"

    def apply(self, problems: list[Problem]) -> None:
        """Put each of the engine's problems next to the row and field it is about."""
        for problem in problems:
            message = pick(problem.ko, problem.en)
            parts = problem.path.split(".") if problem.path else []
            if len(parts) < 2 or parts[0] not in MATCHES or not parts[1].isdigit():
                if message not in self.errors:
                    self.errors.append(message)
                continue
            j = int(parts[1])
            row = self.row(self.rule_rows[j]) if j < len(self.rule_rows) else None
            if row is None:
                self.errors.append(message)
                continue
            rest = [p for p in parts[2:] if p != "not"]
            target = row.field_named(rest[-1]) if rest else None
            if target is not None:
                if not target.errors:  # our own parse message already says it
                    target.errors.append(message)
            elif not row.errors:
                row.errors.append(message)

    def validate(self) -> bool:
        if self.rule is not None:
            try:
                parse_rule(self.rule)
            except RuleError as exc:
                self.apply(exc.problems)
        return not self.has_errors


def _number(raw: str, kind: str) -> int | float | None:
    text = raw.strip().replace(",", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return None
    value = float(text)
    if kind == "int" and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def builder_from_post(data: QueryDict, *, shop: ShopOptions) -> Builder:
    """The rows as posted, with the rule they make and the problems found reading them."""
    match = data.get("match", "all")
    builder = Builder(match=match if match in MATCHES else "all")
    if match not in MATCHES:
        builder.errors.append(_("Choose whether all or any of the conditions must hold."))
    indices = sorted({int(m.group(1)) for k in data if (m := ROW_KEY.match(k))})
    if len(indices) > MAX_ROWS:
        builder.errors.append(_("At most %(n)s conditions.") % {"n": MAX_ROWS})
        indices = indices[:MAX_ROWS]
    items: list[dict[str, Any]] = []
    for i in indices:
        key = (data.get(f"c-{i}-condition") or "").strip()
        negated = data.get(f"c-{i}-not") in ("on", "1", "true")
        row = RowView(index=i, condition=key[:40], negated=negated)
        builder.rows.append(row)
        if not key:
            continue  # a row added but not filled in yet: left out of the rule
        condition = REGISTRY.get(key)
        if condition is None:
            row.condition = ""
            row.errors.append(_("Unknown condition: choose one from the list."))
            continue
        fresh = data.get(f"c-{i}-was") != key
        params: dict[str, Any] = {}
        shown: dict[str, Any] = {}
        local: dict[str, str] = {}
        if fresh:
            params = default_params(condition)
            shown = dict(params)
        else:
            for spec in condition.params:
                name = f"c-{i}-{spec.name}"
                if spec.kind in ("int", "float"):
                    raw = (data.get(name) or "")[:40]
                    shown[spec.name] = raw
                    if raw.strip():
                        number = _number(raw, spec.kind)
                        if number is None:
                            local[spec.name] = _("Enter a number.")
                        else:
                            params[spec.name] = number
                elif spec.kind == "bool":
                    params[spec.name] = shown[spec.name] = data.get(name) in ("on", "1", "true")
                elif spec.kind == "choice":
                    raw = (data.get(name) or "")[:120]
                    shown[spec.name] = raw
                    if raw:
                        params[spec.name] = raw
                elif spec.kind == "ids":
                    raw_list = [v[:20] for v in data.getlist(name)[:600]]
                    shown[spec.name] = raw_list
                    if not all(v.isdigit() for v in raw_list):
                        local[spec.name] = _("Choose from the list.")
                    elif raw_list or spec.required:
                        params[spec.name] = [int(v) for v in raw_list]
                else:  # choices
                    raw_list = [v[:200] for v in data.getlist(name)[:600]]
                    shown[spec.name] = raw_list
                    if raw_list or spec.required:
                        params[spec.name] = raw_list
        row.fields = _row_fields(condition, i, shown, shop)
        for name, message in local.items():
            target = row.field_named(name)
            if target is not None:
                target.errors.append(message)
        leaf = {"condition": key, **params}
        items.append({"not": leaf} if negated else leaf)
        builder.rule_rows.append(i)
    if not items:
        builder.errors.append(_("Add at least one condition."))
    else:
        builder.rule = {builder.match: items}
    return builder


def rows_of(rule: Any) -> tuple[str, list[tuple[str, dict, bool]]] | None:
    """A stored rule as (all/any, [(condition, params, negated)]), or None when it is deeper
    than the builder shows (groups inside groups)."""

    def item(node: Any) -> tuple[str, dict, bool] | None:
        negated = False
        if isinstance(node, dict) and set(node) == {"not"}:
            negated, node = True, node["not"]
        if isinstance(node, dict) and isinstance(node.get("condition"), str):
            params = {k: v for k, v in node.items() if k != "condition"}
            return node["condition"], params, negated
        return None

    single = item(rule)
    if single is not None:
        return "all", [single]
    if isinstance(rule, dict) and len(rule) == 1:
        ((match, children),) = rule.items()
        if match in MATCHES and isinstance(children, list):
            items = [item(c) for c in children]
            if all(i is not None for i in items):
                return match, items  # type: ignore[return-value]
    return None


def builder_from_rule(rule: Any, *, shop: ShopOptions) -> Builder | None:
    shape = rows_of(rule)
    if shape is None:
        return None
    match, items = shape
    builder = Builder(match=match)
    for i, (key, params, negated) in enumerate(items):
        condition = REGISTRY.get(key)
        row = RowView(index=i, condition=key if condition else "", negated=negated)
        if condition is None:
            row.errors.append(_("Unknown condition: choose one from the list."))
        else:
            row.fields = _row_fields(condition, i, params, shop)
        builder.rows.append(row)
    if not builder.rows:
        builder.add_row()
    return builder


def empty_builder() -> Builder:
    builder = Builder()
    builder.add_row()
    return builder


# ── the rule in words ───────────────────────────────────────────────────────────────────────


def describe(node: Node, *, top: bool = True) -> str:
    """A sentence: leaves in words, joined by 그리고 / 또는, negations marked 제외."""
    if isinstance(node, Leaf):
        return pick(*REGISTRY[node.condition].describe(node.params))
    if isinstance(node, Not):
        return _("not (%(inner)s)") % {"inner": describe(node.child)}
    if isinstance(node, Group):
        if not node.children:
            return _("everyone") if node.op == "all" else _("no one")
        joiner = _(" and ") if node.op == "all" else _(" or ")
        text = joiner.join(describe(c, top=False) for c in node.children)
        return f"({text})" if not top and len(node.children) > 1 else text
    return ""


def describe_rule(rule: Any) -> tuple[str | None, list[str]]:
    """The stored rule in words, or (None, problems) when it no longer reads."""
    try:
        return describe(parse_rule(rule)), []
    except RuleError as exc:
        return None, [pick(p.ko, p.en) for p in exc.problems]
