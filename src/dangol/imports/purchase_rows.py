"""Purchase files → orders, checked row by row; :mod:`purchase_batches` writes them.

Rows with the same order id next to each other are the lines of one order (item-level POS
exports); without an id column each row is one purchase, identified by a hash of its content.

Rows are read a chunk at a time so that the time and amount columns can be parsed whole
(:mod:`columns`); what the fast path cannot read goes through the parsers of :mod:`values`,
which also word every problem. Cells that repeat (phones, statuses, quantities, items, names)
are parsed once per distinct text: the parsers are pure, and only successes are remembered, so
every bad cell is still reported on its own row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from itertools import islice

from dangol.imports.columns import amounts_fast, datetimes_fast
from dangol.imports.context import CHUNK, SEOUL, Context, store_for
from dangol.imports.decoding import RawRow
from dangol.imports.purchase_batches import Line, Order, PurchaseBatches
from dangol.imports.report import Problem, shown
from dangol.imports.values import (
    ValueProblem,
    clean_text,
    parse_amount,
    parse_datetime,
    parse_phone,
    parse_quantity,
    parse_status,
)
from dangol.sales.models import Product, PurchaseStatus

__all__ = ["Line", "Order", "PurchaseWriter"]

#: The fields a purchase row reads, taken out of a chunk's rows a column at a time.
_FIELDS = (
    "occurred_at",
    "phone",
    "status",
    "quantity",
    "discount",
    "unit_price",
    "total",
    "store",
    "external_id",
    "name",
    "sku",
    "product",
)
#: Amount columns parsed whole per chunk, as :meth:`PurchaseWriter._amount` reads them.
_AMOUNTS = ("total", "unit_price", "discount")


def _chunks(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class PurchaseWriter:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.by_sku: dict[str, Product] = {}
        self.by_name: dict[str, Product] = {}
        for product in Product.objects.for_shop(ctx.shop):
            self.by_sku[product.sku.casefold()] = product
            self.by_name.setdefault(product.name.strip().casefold(), product)
        self.batches = PurchaseBatches(ctx)
        self.seen: dict[str, int] = {}  # external id → first row
        self.upper = ctx.now + dt.timedelta(days=1)
        self.surely_past = ctx.now.replace(tzinfo=None) - dt.timedelta(days=1)
        # A preset's prefix keeps two apps' order numbers apart ("baemin-…", "yogiyo-…").
        self.prefix = str(ctx.spec.get("id_prefix") or "")
        # Distinct cell text → parsed value (phonenumbers alone is ~50 µs a call).
        self.phones: dict[str, str] = {}
        self.statuses: dict[str, str] = {}
        self.quantities: dict[str, int] = {}
        self.names: dict[str, str] = {}
        self.items: dict[tuple[str, str], tuple[int | None, str]] = {}
        # This chunk's cell texts by field and the fast path's values by position (None where
        # the Python parser must look).
        self.texts: dict[str, list[str]] = {}
        self.fast_when: list[dt.datetime | None] = []
        self.fast_amounts: dict[str, list[int | None]] = {}
        self.at = 0  # the row's position in the chunk
        self.has_discount = ctx.has("discount")

    @property
    def touched(self) -> set[int]:
        return self.batches.touched

    # ── one chunk, whole columns ─────────────────────────────────────────────────────────

    def _column(self, chunk: list[RawRow], name: str) -> list[str]:
        """The stripped texts of one field (what ``Context.cell`` gives), "" where unmapped."""
        index = self.ctx.mapping.fields.get(name)
        if index is None:
            return [""] * len(chunk)
        return [raw.cells[index].strip() if raw.cells is not None else "" for raw in chunk]

    def _prepare(self, chunk: list[RawRow]) -> None:
        self.texts = {name: self._column(chunk, name) for name in _FIELDS}
        self.fast_when = datetimes_fast(self.texts["occurred_at"])
        self.fast_amounts = {name: amounts_fast(self.texts[name]) for name in _AMOUNTS}

    # ── one row ──────────────────────────────────────────────────────────────────────────

    def _text(self, name: str) -> str:
        return self.texts[name][self.at]

    def _value(self, raw: RawRow, name: str, parse, default=None):
        text = self._text(name)
        if not text and default is not None:
            return default
        try:
            return parse(text)
        except ValueProblem as exc:
            self.ctx.problem(raw, name, exc)
            return None

    def _cached(self, raw: RawRow, name: str, parse, cache: dict, default):
        text = self._text(name)
        value = cache.get(text)
        if value is None:
            value = self._value(raw, name, parse, default=default)
            if value is not None:
                cache[text] = value
        return value

    def _when(self, raw: RawRow) -> dt.datetime | None:
        fast = self.fast_when[self.at] if self.fast_when else None
        moment = fast or self._value(raw, "occurred_at", parse_datetime)
        if moment is None:
            return None
        # Any zone's offset is under a day, so a wall time a day before the naive bound is in
        # the past without the costlier comparison of aware times.
        if moment.tzinfo is None and moment < self.surely_past:
            return moment.replace(tzinfo=SEOUL)
        moment = self.ctx.local(moment)
        if moment > self.upper:
            self.ctx.problem(
                raw,
                "occurred_at",
                ValueProblem(
                    "date_future", "미래의 거래 일시입니다.", "The time of sale is in the future."
                ),
            )
            return None
        return moment

    def _amount(self, raw: RawRow, name: str, *, allow_negative: bool = False) -> int | None:
        fast = self.fast_amounts.get(name)
        value = fast[self.at] if fast else None
        if value is None:
            value = self._value(raw, name, parse_amount, default=0)
        if value is not None and value < 0 and not allow_negative:
            refund = name == "total"
            self.ctx.problem(
                raw,
                name,
                ValueProblem(
                    "amount_negative",
                    "금액이 음수입니다. 환불·취소는 원래 거래 행의 상태 열에 '환불' 또는 '취소'로 "
                    "표시하세요."
                    if refund
                    else "음수는 쓸 수 없습니다.",
                    "Negative amount: mark a refund or cancellation in the status column of the "
                    "original sale."
                    if refund
                    else "Negative values are not allowed.",
                ),
            )
            return None
        return value

    def _phone(self, raw: RawRow) -> str | None:
        text = self._text("phone")
        if not text:
            return ""
        return self._cached(raw, "phone", parse_phone, self.phones, None)

    def _name(self, raw: RawRow) -> str:
        text = self._text("name")
        name = self.names.get(text)
        if name is None:
            try:
                name = clean_text(text, limit=100, label_ko="이름", label_en="name")
            except ValueProblem as exc:
                self.ctx.problem(raw, "name", exc)
                return ""
            self.names[text] = name
        return name

    def _item(self, raw: RawRow, sku: str, name: str) -> tuple[int | None, str] | None:
        item = self.items.get((sku, name))
        if item is not None:
            return item
        product = self.by_sku.get(sku.casefold()) if sku else None
        product = product or (self.by_name.get(name.casefold()) if name else None)
        try:
            label = clean_text(name, limit=120, label_ko="상품명", label_en="item name")
        except ValueProblem as exc:
            self.ctx.problem(raw, "product", exc)
            return None
        label = label or (product.name if product else sku[:120])
        item = self.items[(sku, name)] = (product.pk if product else None, label)
        return item

    def _line(self, raw: RawRow, quantity: int, unit_price: int | None, gross: int) -> Line | None:
        sku = self._text("sku")
        name = self._text("product")
        if not (sku or name):
            return None
        item = self._item(raw, sku, name)
        if item is None:
            return None
        price = unit_price if unit_price is not None else gross // quantity
        return Line(item[0], item[1], quantity, price)

    def order_from(self, raw: RawRow) -> Order | None:
        ctx = self.ctx
        texts, at, fast = self.texts, self.at, self.fast_amounts
        errors = ctx.report.errors
        occurred_at = self._when(raw)
        # The cached and fast values inline, the methods for the rest: a million rows add up.
        phone = texts["phone"][at] and (self.phones.get(texts["phone"][at]) or self._phone(raw))
        status = self.statuses.get(texts["status"][at]) or self._cached(
            raw, "status", parse_status, self.statuses, PurchaseStatus.PAID
        )
        quantity = self.quantities.get(texts["quantity"][at]) or self._cached(
            raw, "quantity", parse_quantity, self.quantities, 1
        )
        discount = self._amount(raw, "discount") if self.has_discount else 0
        unit_price = None
        if texts["unit_price"][at]:
            unit_price = fast["unit_price"][at]
            if unit_price is None or unit_price < 0:
                unit_price = self._amount(raw, "unit_price")
        total = None
        if texts["total"][at]:
            total = fast["total"][at]
            if total is None or total < 0:
                total = self._amount(raw, "total")
        elif unit_price is not None and quantity and discount is not None:
            total = quantity * unit_price - discount
            if total < 0:
                ctx.problem(
                    raw,
                    "discount",
                    ValueProblem(
                        "discount_exceeds",
                        "할인이 금액보다 큽니다.",
                        "The discount is larger than the amount.",
                    ),
                )
        elif unit_price is None:
            ctx.problem(
                raw,
                "total",
                ValueProblem("amount_missing", "금액이 비어 있습니다.", "The amount is empty."),
            )
        store_id = store_for(ctx=ctx, raw=raw) if texts["store"][at] else ctx.default_store_id
        external_id = texts["external_id"][at]
        if external_id:
            external_id = self.prefix + external_id
        if len(external_id) > 100:
            ctx.problem(
                raw,
                "external_id",
                ValueProblem(
                    "id_too_long",
                    "주문번호가 너무 깁니다 (최대 100자).",
                    "The order id is too long (at most 100 characters).",
                ),
            )
        name = self._name(raw)
        if ctx.report.errors > errors or None in (occurred_at, phone, total, discount, store_id):
            return None
        line = self._line(raw, quantity, unit_price, total + discount)
        if ctx.report.errors > errors:
            return None
        if not ctx.has("external_id"):
            content = "\x1f".join(
                map(str, (occurred_at.isoformat(), phone, total, discount, status, store_id, line))
            )
            external_id = "h-" + hashlib.sha256(content.encode()).hexdigest()[:32]
        return Order(
            raw.number,
            external_id,
            occurred_at,
            phone,
            name,
            store_id,
            status,
            total,
            discount,
            [line] if line else [],
        )

    # ── the file ─────────────────────────────────────────────────────────────────────────

    def _merge(self, order: Order, raw_next: Order) -> bool:
        """Another row of the same order: same time and customer, one more line."""
        if (order.occurred_at, order.phone) != (raw_next.occurred_at, raw_next.phone):
            self.ctx.report.add(
                Problem(
                    code="order_mismatch",
                    ko=f"같은 주문번호({shown(order.external_id)})인데 {order.row}행과 일시나 "
                    "전화번호가 다릅니다.",
                    en=f"Same order id ({shown(order.external_id)}) as row {order.row} but a "
                    "different time or phone.",
                    row=raw_next.row,
                    column=shown(self.ctx.header("external_id")),
                    value=shown(order.external_id),
                )
            )
            return False
        order.total += raw_next.total
        order.discount += raw_next.discount
        order.lines.extend(raw_next.lines)
        return True

    def _orders(self, rows: Iterator[RawRow]) -> Iterator[Order]:
        ctx = self.ctx
        counts = ctx.counts
        has_id = ctx.has("external_id")
        current: Order | None = None
        for chunk in _chunks(rows, CHUNK):
            self._prepare(chunk)
            for at, raw in enumerate(chunk):
                self.at = at
                counts["rows"] += 1
                if ctx.progress and counts["rows"] % 1000 == 0:
                    ctx.progress(counts["rows"])
                if raw.problem:
                    ctx.report.add(raw.problem)
                    continue
                order = self.order_from(raw)
                if order is None:
                    continue
                if current and has_id and order.external_id == current.external_id:
                    self._merge(current, order)
                    continue
                first = self.seen.get(order.external_id)
                if first is not None:
                    self._duplicate(order, first)
                    continue
                self.seen[order.external_id] = order.row
                if current:
                    yield current
                current = order
        if current:
            yield current

    def _duplicate(self, order: Order, first: int) -> None:
        if self.ctx.has("external_id"):
            ko = (
                f"주문번호 {shown(order.external_id)}가 {first}행에 이미 나왔습니다. 한 주문의 "
                "행은 붙어 있어야 합니다."
            )
            en = (
                f"Order id {shown(order.external_id)} already appeared at row {first}; the rows "
                "of one order must be next to each other."
            )
        else:
            ko = f"{first}행과 똑같은 행입니다 (중복). 하나를 지우세요."
            en = f"Identical to row {first} (a duplicate); delete one of them."
        self.ctx.report.add(
            Problem(
                code="duplicate_row",
                ko=ko,
                en=en,
                row=order.row,
                column=shown(self.ctx.header("external_id")),
                value=shown(order.external_id) if self.ctx.has("external_id") else "",
            )
        )

    def write(self, rows: Iterator[RawRow]) -> None:
        chunk: list[Order] = []
        for order in self._orders(rows):
            chunk.append(order)
            if len(chunk) >= CHUNK:
                self.batches.flush(chunk)
                chunk = []
        self.batches.flush(chunk)
