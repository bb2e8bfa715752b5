"""What the import wizard's pages show: the mapping chosen in the form (a preset plus the owner's
overrides), each column with its confidence, the first rows as the import will read them, and
the counts of a run, each with the sentence that explains it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangol.core.phone import format_phone
from dangol.imports.headers import FIELD_LABELS, REQUIRED, ColumnMatch, header_map
from dangol.imports.presets import PRESETS, mapping_resolve, preset_get
from dangol.imports.report import Problem
from dangol.imports.selectors import Preview, import_preview
from dangol.imports.values import (
    ValueProblem,
    parse_active,
    parse_amount,
    parse_consent,
    parse_date,
    parse_datetime,
    parse_gender,
    parse_phone,
    parse_quantity,
    parse_status,
)
from dangol.sales.models import PurchaseStatus
from dangol.web.segment_rules import pick

PREVIEW_ROWS = 5
IGNORE = ""  # the select's value for "do not import this column"


def field_label(name: str | None) -> str:
    if not name:
        return _("Not imported")
    ko, en = FIELD_LABELS.get(name, (name, name))
    return pick(ko, en)


def problem_text(problem: Problem | Mapping[str, Any]) -> str:
    if isinstance(problem, Problem):
        return pick(problem.ko, problem.en)
    return pick(problem.get("ko", ""), problem.get("en", ""))


def preset_choices() -> list[tuple[str, str]]:
    """The delivery-app presets, each marked "best known" while it is unverified."""
    choices = []
    for key in PRESETS:
        preset = preset_get(key)
        label = str(preset.get("app") or key)
        if not preset.get("verified"):
            label = _("%(app)s (best known)") % {"app": label}
        choices.append((key, label))
    return choices


# ── the mapping the form describes ─────────────────────────────────────────────────────────


def _base_columns(*, kind: str, headers: list[str], preset: str) -> list[ColumnMatch]:
    """Every column as the preset (or the automatic guess) maps it, before the owner's own
    choices; the form's selects are compared with this to know what the owner changed."""
    overrides = mapping_resolve(spec={"preset": preset} if preset else None).get("columns")
    return header_map(kind=kind, headers=headers, overrides=overrides).columns


def mapping_document(*, preset: str, columns: dict[str, str | None]) -> dict[str, Any] | None:
    """The mapping given to the import (format of ``imports/presets/README.md``)."""
    doc: dict[str, Any] = {}
    if preset:
        doc["preset"] = preset
    if columns:
        doc["columns"] = dict(columns)
    return doc or None


def mapping_from_form(
    *, data: Mapping[str, Any], kind: str, headers: list[str], allowed: set[str]
) -> tuple[str, dict[str, str | None]]:
    """The preset and the overrides of a posted mapping form. A select still showing what the
    preset or the guess chose is no override; after the preset itself changed, the selects
    (drawn for the old preset) are ignored."""
    preset = str(data.get("preset") or "")
    preset = preset if preset in PRESETS else ""
    if preset != str(data.get("was_preset") or ""):
        return preset, {}
    base = _base_columns(kind=kind, headers=headers, preset=preset)
    overrides: dict[str, str | None] = {}
    for column in base:
        key = f"col-{column.index}"
        if key not in data:
            continue
        chosen = str(data.get(key) or "")
        if chosen != IGNORE and chosen not in allowed:
            continue
        if (chosen or None) != column.field:
            overrides[column.header] = chosen or None
    return preset, overrides


def mapping_from_run(mapping: dict[str, Any] | None) -> tuple[str, dict[str, str | None]]:
    mapping = mapping or {}
    preset = str(mapping.get("preset") or "")
    columns = mapping.get("columns") or {}
    return (preset if preset in PRESETS else ""), dict(columns)


# ── the page's columns and rows ────────────────────────────────────────────────────────────


@dataclass
class ColumnView:
    index: int
    header: str
    field: str | None
    label: str
    percent: int
    level: str  # high | mid | low | manual | none
    level_text: str


def _level(column: ColumnMatch, mine: set[str]) -> tuple[str, str]:
    if column.via == "manual":
        if column.header in mine:
            return "manual", _("Chosen by you")
        return "preset", _("From the preset")
    if not column.field:
        return "none", _("Not recognised")
    if column.confidence >= 0.9:
        return "high", _("High")
    if column.confidence >= 0.6:
        return "mid", _("Medium")
    return "low", _("Low")


def column_views(columns: list[ColumnMatch], *, mine: set[str]) -> list[ColumnView]:
    """``mine``: the headers the owner chose a field for (the rest of the manual ones come
    from the preset)."""
    views = []
    for c in columns:
        level, text = _level(c, mine)
        views.append(
            ColumnView(
                index=c.index,
                header=c.header,
                field=c.field,
                label=field_label(c.field),
                percent=round(c.confidence * 100),
                level=level,
                level_text=text,
            )
        )
    return views


def missing_required(*, kind: str, columns: list[ColumnMatch]) -> list[str]:
    """The required fields no column maps to, as the owner reads them ("결제금액 or 단가")."""
    mapped = {c.field for c in columns if c.field}
    return [
        _(" or ").join(field_label(o) for o in options)
        for options in REQUIRED[kind]
        if not mapped.intersection(options)
    ]


def _when(value: dt.datetime) -> str:
    return (
        value.strftime("%Y-%m-%d %H:%M")
        if (value.hour, value.minute) != (0, 0)
        else (value.strftime("%Y-%m-%d"))
    )


def _won(value: int) -> str:
    return _("%(n)s won") % {"n": number_format(value, force_grouping=True)}


def _yes_no(value: bool | None) -> str:
    if value is None:
        return _("blank (no consent)")
    return _("agrees") if value else _("refuses")


def _gender(value: str) -> str:
    return {"F": _("female"), "M": _("male")}.get(value, "")


_STATUS_LABELS = dict(PurchaseStatus.choices)

#: field → how its cell is read, as the import reads it, and shown.
READERS: dict[str, Callable[[str], str]] = {
    "occurred_at": lambda t: _when(parse_datetime(t)),
    "joined_at": lambda t: _when(parse_datetime(t)),
    "consent_at": lambda t: _when(parse_datetime(t)),
    "birthday": lambda t: parse_date(t).strftime("%Y-%m-%d"),
    "total": lambda t: _won(parse_amount(t)),
    "discount": lambda t: _won(parse_amount(t)),
    "unit_price": lambda t: _won(parse_amount(t)),
    "unit_cost": lambda t: _won(parse_amount(t)),
    "points": lambda t: number_format(parse_amount(t), force_grouping=True),
    "quantity": lambda t: number_format(parse_quantity(t), force_grouping=True),
    "phone": lambda t: format_phone(parse_phone(t)),
    "consent_marketing": lambda t: _yes_no(parse_consent(t)),
    "consent_sms": lambda t: _yes_no(parse_consent(t)),
    "consent_kakao": lambda t: _yes_no(parse_consent(t)),
    "consent_email": lambda t: _yes_no(parse_consent(t)),
    "gender": lambda t: _gender(parse_gender(t)),
    "active": lambda t: _("on sale") if parse_active(t) else _("not on sale"),
    "status": lambda t: str(_STATUS_LABELS.get(parse_status(t), "")),
}


@dataclass
class CellView:
    label: str
    raw: str
    shown: str
    problem: str = ""

    @property
    def changed(self) -> bool:
        return self.shown != self.raw


@dataclass
class RowView:
    number: int
    cells: list[CellView] = field(default_factory=list)


def row_views(*, columns: list[ColumnMatch], rows: list[tuple[int, list[str]]]) -> list[RowView]:
    """The first rows as the import reads them: each mapped column's cell parsed (a date, an
    amount in won, a phone number), or the reason it cannot be read."""
    mapped = [c for c in columns if c.field]
    views = []
    for number, cells in rows:
        view = RowView(number=number)
        for c in mapped:
            raw = cells[c.index].strip() if c.index < len(cells) else ""
            cell = CellView(label=field_label(c.field), raw=raw, shown=raw)
            reader = READERS.get(c.field or "")
            if raw and reader:
                try:
                    cell.shown = reader(raw)
                except ValueProblem as exc:
                    cell.shown, cell.problem = "", pick(exc.ko, exc.en)
            view.cells.append(cell)
        views.append(view)
    return views


# ── one look at the stored file with the form's mapping ────────────────────────────────────


@dataclass
class WizardState:
    preset: str
    overrides: dict[str, str | None]
    preview: Preview
    columns: list[ColumnView]
    rows: list[RowView]
    missing: list[str]
    problems: list[str]
    choices: list[tuple[str, str]]

    @property
    def mapping(self) -> dict[str, Any] | None:
        return mapping_document(preset=self.preset, columns=self.overrides)

    @property
    def preset_options(self) -> list[tuple[str, str]]:
        return preset_choices()

    @property
    def readable(self) -> bool:
        return bool(self.preview.headers)


def wizard_state(
    *,
    kind: str,
    data: bytes,
    file_name: str,
    form: Mapping[str, Any] | None,
    saved: dict[str, Any] | None,
    preset: str = "",
) -> WizardState:
    """The mapping page's content: from the posted form when there is one, else from the
    mapping a previous check saved, else the preset chosen at upload (or none)."""
    first = import_preview(kind=kind, data=data, file_name=file_name, limit=PREVIEW_ROWS)
    allowed = {c for c, _ko, _en in first.choices}
    if form is not None and "was_preset" in form:
        preset, overrides = mapping_from_form(
            data=form, kind=kind, headers=first.headers, allowed=allowed
        )
    elif saved:
        preset, overrides = mapping_from_run(saved)
    else:
        preset, overrides = (preset if preset in PRESETS else ""), {}
    mapping = mapping_document(preset=preset, columns=overrides)
    preview = (
        import_preview(
            kind=kind, data=data, file_name=file_name, mapping=mapping, limit=PREVIEW_ROWS
        )
        if mapping
        else first
    )
    return WizardState(
        preset=preset,
        overrides=overrides,
        preview=preview,
        columns=column_views(preview.columns, mine=set(overrides)),
        rows=row_views(columns=preview.columns, rows=preview.rows),
        missing=missing_required(kind=kind, columns=preview.columns) if preview.headers else [],
        problems=[problem_text(p) for p in preview.problems if p.code != "missing_column"],
        choices=[(f, pick(ko, en)) for f, ko, en in preview.choices],
    )


# ── a run's counts, each with its sentence ─────────────────────────────────────────────────

COUNTS: list[tuple[str, Any, Any]] = [
    (
        "rows",
        gettext_lazy("Rows read"),
        gettext_lazy("Data rows in the file, not counting the header row."),
    ),
    (
        "purchases_created",
        gettext_lazy("New purchases"),
        gettext_lazy(
            "Sales that were not here before; rows next to each other with the same order "
            "number are one purchase."
        ),
    ),
    (
        "purchases_existing",
        gettext_lazy("Purchases already here"),
        gettext_lazy(
            "Sales with the same order number (or the same content) were imported before and "
            "were left as they are."
        ),
    ),
    (
        "lines_created",
        gettext_lazy("Items in the new purchases"),
        gettext_lazy("One line per menu item or product sold in the new purchases."),
    ),
    (
        "customers_created",
        gettext_lazy("New customers"),
        gettext_lazy("Phone numbers that were not yet in your customer list."),
    ),
    (
        "customers_existing",
        gettext_lazy("Customers already here"),
        gettext_lazy(
            "Phone numbers already in your customer list; their details were left as they are."
        ),
    ),
    (
        "customers_touched",
        gettext_lazy("Customers with new purchases"),
        gettext_lazy("Their visit counts and spend were recalculated from all their purchases."),
    ),
    (
        "consents_recorded",
        gettext_lazy("Consent records"),
        gettext_lazy(
            "Yes or no answers from the consent columns, kept with this file's name as "
            "evidence; a blank cell never counts as a yes."
        ),
    ),
    (
        "products_created",
        gettext_lazy("New products"),
        gettext_lazy("Products whose code (or name, without a code) was not on your list."),
    ),
    (
        "products_existing",
        gettext_lazy("Products already here"),
        gettext_lazy("Products already on your list; they were left as they are."),
    ),
]
CREATING = (
    "purchases_created",
    "lines_created",
    "customers_created",
    "consents_recorded",
    "products_created",
)


@dataclass
class CountView:
    key: str
    label: str
    value: int
    explain: str


def count_views(counts: dict[str, Any]) -> list[CountView]:
    return [
        CountView(key=key, label=str(label), value=int(counts[key]), explain=str(explain))
        for key, label, explain in COUNTS
        if key in counts and (counts[key] or key == "rows")
    ]


def changes_nothing(counts: dict[str, Any]) -> bool:
    """True when the file adds nothing: every row of it is already here."""
    return bool(counts.get("rows")) and not any(counts.get(k) for k in CREATING)
