"""The segment rule language: JSON trees of all / any / not groups over registered conditions.

    {"all": [{"condition": "visits", "op": "gte", "value": 2, "days": 30},
             {"not": {"condition": "status", "values": ["lapsed"]}}]}

``parse_rule`` checks the whole tree before anything runs and reports every problem with the path
of the field it concerns ("all.1.not.values"), in Korean and English.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dangol.segments.conditions import REGISTRY
from dangol.segments.conditions.base import Param

MAX_DEPTH = 6
MAX_CONDITIONS = 40
MAX_LIST = 500
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    path: str
    ko: str
    en: str


class RuleError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.path or 'rule'}: {p.en}" for p in problems))


@dataclass(frozen=True)
class Leaf:
    condition: str
    params: dict[str, Any]
    path: str


@dataclass(frozen=True)
class Group:
    op: str  # "all" or "any"
    children: tuple[Any, ...]
    path: str


@dataclass(frozen=True)
class Not:
    child: Any
    path: str


Node = Leaf | Group | Not


@dataclass
class _Parser:
    problems: list[Problem] = field(default_factory=list)
    conditions: int = 0

    def fail(self, path: str, ko: str, en: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(path, ko, en))

    def node(self, data: Any, path: str, depth: int) -> Node | None:
        if depth > MAX_DEPTH:
            self.fail(
                path, f"묶음은 {MAX_DEPTH}단계까지만 됩니다.", f"Nest at most {MAX_DEPTH} levels."
            )
            return None
        if not isinstance(data, dict) or len(data) == 0:
            self.fail(path, "조건이나 묶음이어야 합니다.", "Expected a condition or a group.")
            return None
        if "condition" in data:
            return self.leaf(data, path)
        keys = set(data)
        if keys == {"not"}:
            child = self.node(data["not"], _join(path, "not"), depth + 1)
            return Not(child, path) if child is not None else None
        if len(keys) == 1 and keys <= {"all", "any"}:
            op = next(iter(keys))
            items = data[op]
            if not isinstance(items, list):
                self.fail(_join(path, op), "목록이어야 합니다.", "Expected a list.")
                return None
            children = [self.node(c, _join(path, op, i), depth + 1) for i, c in enumerate(items)]
            if any(c is None for c in children):
                return None
            return Group(op, tuple(children), path)
        self.fail(path, "알 수 없는 묶음입니다.", f"Unknown group keys: {sorted(map(str, keys))}.")
        return None

    def leaf(self, data: dict, path: str) -> Leaf | None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            if self.conditions == MAX_CONDITIONS + 1:
                self.fail(
                    path,
                    f"조건은 {MAX_CONDITIONS}개까지만 됩니다.",
                    f"At most {MAX_CONDITIONS} conditions.",
                )
            return None
        key = data["condition"]
        condition = REGISTRY.get(key) if isinstance(key, str) else None
        if condition is None:
            self.fail(
                _join(path, "condition"), "알 수 없는 조건입니다.", f"Unknown condition {key!r}."
            )
            return None
        params: dict[str, Any] = {}
        known = {p.name for p in condition.params}
        for extra in sorted(set(data) - known - {"condition"}):
            self.fail(_join(path, extra), "이 조건에 없는 값입니다.", f"Unknown field {extra!r}.")
        for spec in condition.params:
            where = _join(path, spec.name)
            raw = data.get(spec.name)
            if raw is None:
                if spec.required:
                    self.fail(where, f"{spec.ko}을(를) 입력하세요.", f"{spec.en} is required.")
                elif spec.default is not None:
                    params[spec.name] = spec.default
                continue
            value = _check(spec, raw, where, self)
            if value is not None:
                params[spec.name] = value
        before = len(self.problems)
        _check_leaf(key, params, path, self)
        if len(self.problems) != before:
            return None
        return Leaf(key, params, path)


def _join(*parts: Any) -> str:
    return ".".join(str(p) for p in parts if p != "")


def _check(spec: Param, raw: Any, path: str, parser: _Parser) -> Any:
    kind = spec.kind
    if kind in ("int", "float"):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            parser.fail(path, f"{spec.ko}은(는) 숫자여야 합니다.", f"{spec.en} must be a number.")
            return None
        if isinstance(raw, float) and not math.isfinite(raw):
            parser.fail(path, f"{spec.ko}은(는) 숫자여야 합니다.", f"{spec.en} must be a number.")
            return None
        if kind == "int" and isinstance(raw, float) and not raw.is_integer():
            parser.fail(
                path, f"{spec.ko}은(는) 정수여야 합니다.", f"{spec.en} must be a whole number."
            )
            return None
        # Bounds are checked on the value as given: a Python int of any size compares exactly,
        # whereas converting 10**400 to a float would raise.
        value = raw
        if spec.minimum is not None and value < spec.minimum:
            parser.fail(
                path,
                f"{spec.ko}은(는) {spec.minimum:g} 이상이어야 합니다.",
                f"{spec.en} must be at least {spec.minimum:g}.",
            )
            return None
        if spec.maximum is not None and value > spec.maximum:
            parser.fail(
                path,
                f"{spec.ko}은(는) {spec.maximum:g} 이하여야 합니다.",
                f"{spec.en} must be at most {spec.maximum:g}.",
            )
            return None
        return int(value) if kind == "int" else float(value)
    if kind == "bool":
        if not isinstance(raw, bool):
            parser.fail(
                path, f"{spec.ko}은(는) 예/아니오여야 합니다.", f"{spec.en} must be true or false."
            )
            return None
        return raw
    if kind == "choice":
        allowed = [str(c) for c in spec.allowed()]
        if str(raw) not in allowed or isinstance(raw, bool | list | dict):
            parser.fail(
                path, f"{spec.ko} 값이 올바르지 않습니다.", f"{spec.en} must be one of {allowed}."
            )
            return None
        return str(raw)
    if kind in ("choices", "ids"):
        if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST:
            parser.fail(
                path,
                f"{spec.ko}을(를) 1개 이상 {MAX_LIST}개 이하로 고르세요.",
                f"Choose 1 to {MAX_LIST} {spec.en}.",
            )
            return None
        if kind == "ids":
            if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in raw):
                parser.fail(path, f"{spec.ko} 번호가 올바르지 않습니다.", f"{spec.en} must be ids.")
                return None
            return sorted(set(raw))
        allowed = spec.allowed()
        values = [str(v) for v in raw if isinstance(v, str | int) and not isinstance(v, bool)]
        if len(values) != len(raw) or (allowed and not set(values) <= {str(a) for a in allowed}):
            parser.fail(path, f"{spec.ko} 값이 올바르지 않습니다.", f"Unknown {spec.en}.")
            return None
        if any(not v.isprintable() for v in values):
            parser.fail(
                path, f"{spec.ko}에 쓸 수 없는 문자가 있습니다.", f"{spec.en}: invalid characters."
            )
            return None
        if any(len(v) > 120 for v in values):
            parser.fail(path, f"{spec.ko} 값이 너무 깁니다.", f"{spec.en} values are too long.")
            return None
        return sorted(set(values))
    raise ValueError(f"unknown parameter kind {kind!r}")


def _check_leaf(key: str, params: dict, path: str, parser: _Parser) -> None:
    if key == "bought" and not (params.get("products") or params.get("categories")):
        parser.fail(
            _join(path, "products"),
            "상품이나 분류를 하나 이상 고르세요.",
            "Choose at least one product or category.",
        )


def parse_rule(data: Any) -> Node:
    """The validated tree, or ``RuleError`` listing every problem with its path."""
    parser = _Parser()
    node = parser.node(data, "", 1)
    if parser.problems or node is None:
        raise RuleError(
            parser.problems or [Problem("", "규칙이 비어 있습니다.", "The rule is empty.")]
        )
    return node


def leaves(node: Node) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node]
    if isinstance(node, Not):
        return leaves(node.child)
    return [leaf for child in node.children for leaf in leaves(child)]
