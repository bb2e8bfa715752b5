"""Reads of the imports app: past runs, and a look at a file before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from dangol.imports.decoding import FileUnreadable, table_read
from dangol.imports.headers import FIELD_LABELS, KIND_FIELDS, ColumnMatch, header_map
from dangol.imports.models import ImportRun
from dangol.imports.presets import mapping_resolve
from dangol.imports.report import Problem
from dangol.shops.models import Shop


def import_run_list(*, shop: Shop) -> QuerySet[ImportRun]:
    return ImportRun.objects.for_shop(shop).order_by("-created_at", "-pk")


def import_run_get(*, shop: Shop, run_id: int) -> ImportRun:
    run = ImportRun.objects.for_shop(shop).filter(pk=run_id).first()
    if run is None:
        raise Http404
    return run


@dataclass
class Preview:
    headers: list[str] = field(default_factory=list)
    columns: list[ColumnMatch] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    file_format: str = ""
    encoding: str = ""
    choices: list[tuple[str, str, str]] = field(default_factory=list)  # field, ko, en


def import_preview(
    *,
    kind: str,
    data: bytes,
    file_name: str,
    mapping: dict[str, Any] | None = None,
    limit: int = 5,
) -> Preview:
    """Headers, the guessed (or overridden) mapping with confidences and the first rows."""
    preview = Preview(
        choices=[(f, *FIELD_LABELS[f]) for f in KIND_FIELDS[kind]],
    )
    try:
        spec = mapping_resolve(spec=mapping)
        table = table_read(data=data, file_name=file_name, sheet=spec.get("sheet"))
    except FileUnreadable as exc:
        preview.problems.append(exc.problem)
        return preview
    matched = header_map(
        kind=kind, headers=table.headers, overrides=spec.get("columns"), header_row=table.header_row
    )
    preview.headers = table.headers
    preview.columns = matched.columns
    preview.problems = list(matched.problems)
    preview.file_format, preview.encoding = table.file_format, table.encoding
    for raw in islice(table.rows, limit):
        if raw.problem:
            preview.problems.append(raw.problem)
            break
        preview.rows.append((raw.number, raw.cells or []))
    return preview
