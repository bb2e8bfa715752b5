"""Mapping documents and the delivery-app presets (format: ``README.md`` beside this file)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from dangol.imports.headers import KINDS, mapping_overrides

FOLDER = Path(__file__).resolve().parent
PRESETS = ("baemin", "coupangeats", "yogiyo")
_KEYS = {
    "format",
    "preset",
    "kind",
    "name",
    "app",
    "verified",
    "note",
    "columns",
    "store",
    "sheet",
    "id_prefix",
}


@cache
def preset_get(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
    return json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))


def preset_list() -> list[dict[str, Any]]:
    return [{"key": name, **preset_get(name)} for name in PRESETS]


def mapping_resolve(*, spec: dict[str, Any] | None) -> dict[str, Any]:
    """A mapping document with its preset folded in: the document's own columns and settings
    win over the preset's. Raises ValueError on a malformed document."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise ValueError("a mapping must be a JSON object")
    unknown = set(spec) - _KEYS
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    if spec.get("kind") is not None and spec["kind"] not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    base: dict[str, Any] = {}
    if spec.get("preset"):
        base = dict(preset_get(str(spec["preset"])))
    columns = {**mapping_overrides(spec=base), **mapping_overrides(spec=spec)}
    return {**base, **spec, "columns": columns}
