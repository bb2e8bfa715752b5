"""What every row writer shares: the shop, the column mapping, the report and the counts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from dangol.imports.decoding import RawRow
from dangol.imports.headers import Mapping
from dangol.imports.report import ERROR, Problem, Report, shown
from dangol.imports.values import ValueProblem
from dangol.shops.models import Shop, Store

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
#: Rows are parsed and written this many at a time, inside the one transaction of the file.
CHUNK = 2000


@dataclass
class Context:
    shop: Shop
    mapping: Mapping
    report: Report
    file_name: str
    spec: dict
    now: dt.datetime
    counts: Counter = field(default_factory=Counter)
    progress: Callable[[int], None] | None = None
    stores: dict[str, int] = field(default_factory=dict)
    default_store_id: int | None = None

    @property
    def writing(self) -> bool:
        """After the first error nothing more is written (the file will be rolled back), but
        the rest is still checked so that the report lists every problem at once."""
        return self.report.ok

    def cell(self, raw: RawRow, name: str) -> str:
        index = self.mapping.fields.get(name)
        if index is None or raw.cells is None:
            return ""
        return raw.cells[index].strip()

    def has(self, name: str) -> bool:
        return name in self.mapping.fields

    def header(self, name: str) -> str:
        index = self.mapping.fields.get(name)
        return self.mapping.columns[index].header if index is not None else ""

    def problem(self, raw: RawRow | int, name: str, exc: ValueProblem, *, severity=ERROR) -> None:
        row = raw if isinstance(raw, int) else raw.number
        value = self.cell(raw, name) if isinstance(raw, RawRow) else ""
        self.report.add(
            Problem(
                code=exc.code,
                ko=exc.ko,
                en=exc.en,
                row=row,
                column=shown(self.header(name)),
                value=shown(value),
                severity=severity,
            )
        )

    def local(self, moment: dt.datetime) -> dt.datetime:
        """A wall-clock time from the file is Seoul time (the shop's)."""
        return moment.replace(tzinfo=SEOUL) if moment.tzinfo is None else moment


def context_stores(*, ctx: Context) -> None:
    """Store names and codes, folded, for the store column; the mapping's ``store`` (a code)
    or else the shop's first store takes rows without one."""
    stores = list(Store.objects.for_shop(ctx.shop).order_by("pk"))
    for store in stores:
        ctx.stores[store.code.casefold()] = store.pk
        ctx.stores[store.name.strip().casefold()] = store.pk
    wanted = str(ctx.spec.get("store") or "").casefold()
    if wanted:
        ctx.default_store_id = ctx.stores.get(wanted)
        if ctx.default_store_id is None:
            ctx.report.add(
                Problem(
                    code="mapping_unknown_store",
                    ko=f"매핑의 매장을 찾을 수 없습니다: {shown(wanted)}",
                    en=f"The mapping's store does not exist: {shown(wanted)}",
                )
            )
    elif stores:
        ctx.default_store_id = stores[0].pk


def store_for(*, ctx: Context, raw: RawRow) -> int | None:
    text = ctx.cell(raw, "store")
    if not text:
        return ctx.default_store_id
    store_id = ctx.stores.get(text.casefold())
    if store_id is None:
        ctx.problem(
            raw,
            "store",
            ValueProblem(
                "store_unknown",
                f"등록되지 않은 매장입니다: {shown(text)} (설정에서 매장을 먼저 추가하세요)",
                f"Unknown store: {shown(text)} (add it in the settings first)",
            ),
        )
    return store_id
