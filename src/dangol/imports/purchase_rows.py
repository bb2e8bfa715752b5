"""Purchase files → purchases and their lines.

Rows with the same order id next to each other are the lines of one order (item-level POS
exports); without an id column each row is one purchase, identified by a hash of its content.
Re-importing skips every (source "import", external id) the shop already has.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from dangol.customers.models import CreatedVia, CustomerIdentity, IdentityKind
from dangol.customers.services import CustomerInput, customer_bulk_create, phone_blind_index
from dangol.imports.bulk import lines_insert, moment, purchases_insert
from dangol.imports.context import CHUNK, Context, store_for
from dangol.imports.decoding import RawRow
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
from dangol.sales.models import Product, Purchase, PurchaseSource, PurchaseStatus

SOURCE = PurchaseSource.IMPORT


@dataclass
class Line:
    product_id: int | None
    name: str
    quantity: int
    unit_price: int


@dataclass
class Order:
    row: int
    external_id: str
    occurred_at: dt.datetime
    phone: str
    name: str
    store_id: int
    status: str
    total: int
    discount: int
    lines: list[Line] = field(default_factory=list)


class PurchaseWriter:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.by_sku: dict[str, Product] = {}
        self.by_name: dict[str, Product] = {}
        for product in Product.objects.for_shop(ctx.shop):
            self.by_sku[product.sku.casefold()] = product
            self.by_name.setdefault(product.name.strip().casefold(), product)
        self.phones: dict[str, str] = {}  # raw text → E.164; phonenumbers is slow, files repeat
        self.customers: dict[str, int] = {}  # E.164 → customer id
        self.seen: dict[str, int] = {}  # external id → first row
        self.touched: set[int] = set()
        self.upper = ctx.now + dt.timedelta(days=1)
        # A preset's prefix keeps two apps' order numbers apart ("baemin-…", "yogiyo-…").
        self.prefix = str(ctx.spec.get("id_prefix") or "")

    # ── one row ──────────────────────────────────────────────────────────────────────────

    def _value(self, raw: RawRow, name: str, parse, default=None):
        text = self.ctx.cell(raw, name)
        if not text and default is not None:
            return default
        try:
            return parse(text)
        except ValueProblem as exc:
            self.ctx.problem(raw, name, exc)
            return None

    def _when(self, raw: RawRow) -> dt.datetime | None:
        text = self.ctx.cell(raw, "occurred_at")
        try:
            # The common export form first: fromisoformat is C and a million rows add up.
            moment = dt.datetime.fromisoformat(text) if len(text) >= 16 else None
        except ValueError:
            moment = None
        moment = moment or self._value(raw, "occurred_at", parse_datetime)
        if moment is None:
            return None
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
        text = self.ctx.cell(raw, name)
        value = int(text) if text.isdigit() else self._value(raw, name, parse_amount, default=0)
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
        text = self.ctx.cell(raw, "phone")
        if not text:
            return ""
        if text not in self.phones:
            e164 = self._value(raw, "phone", parse_phone)
            if e164 is None:
                return None
            self.phones[text] = e164
        return self.phones[text]

    def _line(self, raw: RawRow, quantity: int, unit_price: int | None, gross: int) -> Line | None:
        sku = self.ctx.cell(raw, "sku")
        name = self.ctx.cell(raw, "product")
        if not (sku or name):
            return None
        product = self.by_sku.get(sku.casefold()) if sku else None
        product = product or (self.by_name.get(name.casefold()) if name else None)
        try:
            label = clean_text(name, limit=120, label_ko="상품명", label_en="item name")
        except ValueProblem as exc:
            self.ctx.problem(raw, "product", exc)
            return None
        price = unit_price if unit_price is not None else gross // quantity
        label = label or (product.name if product else sku[:120])
        return Line(product.pk if product else None, label, quantity, price)

    def order_from(self, raw: RawRow) -> Order | None:
        ctx = self.ctx
        errors = ctx.report.errors
        occurred_at = self._when(raw)
        phone = self._phone(raw)
        status = self._value(raw, "status", parse_status, default=PurchaseStatus.PAID)
        quantity = self._value(raw, "quantity", parse_quantity, default=1)
        discount = self._amount(raw, "discount") if ctx.has("discount") else 0
        unit_price = self._amount(raw, "unit_price") if ctx.cell(raw, "unit_price") else None
        total = None
        if ctx.cell(raw, "total"):
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
        store_id = store_for(ctx=ctx, raw=raw)
        external_id = ctx.cell(raw, "external_id")
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
        try:
            name = clean_text(ctx.cell(raw, "name"), limit=100, label_ko="이름", label_en="name")
        except ValueProblem as exc:
            ctx.problem(raw, "name", exc)
            name = ""
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
        current: Order | None = None
        for raw in rows:
            self.ctx.counts["rows"] += 1
            if self.ctx.progress and self.ctx.counts["rows"] % 1000 == 0:
                self.ctx.progress(self.ctx.counts["rows"])
            if raw.problem:
                self.ctx.report.add(raw.problem)
                continue
            order = self.order_from(raw)
            if order is None:
                continue
            if current and self.ctx.has("external_id") and order.external_id == current.external_id:
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
                self._flush(chunk)
                chunk = []
        self._flush(chunk)

    def _customer_ids(self, orders: list[Order]) -> None:
        shop = self.ctx.shop
        wanted = {o.phone for o in orders if o.phone and o.phone not in self.customers}
        if not wanted:
            return
        bidx = {phone_blind_index(shop_id=shop.pk, phone_e164=p): p for p in wanted}
        found = CustomerIdentity.objects.for_shop(shop).filter(
            kind=IdentityKind.PHONE, value_bidx__in=list(bidx)
        )
        for value_bidx, customer_id in found.values_list("value_bidx", "customer_id"):
            self.customers[bidx[value_bidx]] = customer_id
        names = {o.phone: o.name for o in orders if o.phone}
        new = sorted(p for p in wanted if p not in self.customers)
        created = customer_bulk_create(
            shop=shop,
            rows=[CustomerInput(name=names[p] or f"고객 {p[-4:]}", phone=p) for p in new],
            created_via=CreatedVia.IMPORT,
        )
        for customer in created:
            self.customers[customer.phone] = customer.pk
        self.ctx.counts["customers_created"] += len(created)

    def _flush(self, orders: list[Order]) -> None:
        if not orders or not self.ctx.writing:
            return
        shop = self.ctx.shop
        ids = [o.external_id for o in orders]
        existing = set(
            Purchase.objects.for_shop(shop)
            .filter(source=SOURCE, external_id__in=ids)
            .values_list("external_id", flat=True)
        )
        fresh = [o for o in orders if o.external_id not in existing]
        self.ctx.counts["purchases_existing"] += len(orders) - len(fresh)
        self._customer_ids(fresh)
        now = moment(self.ctx.now)
        rows = []
        for o in fresh:
            customer_id = self.customers.get(o.phone) if o.phone else None
            if customer_id:
                self.touched.add(customer_id)
            rows.append(
                (
                    shop.pk,
                    o.store_id,
                    customer_id,
                    SOURCE.value,
                    o.external_id,
                    moment(o.occurred_at),
                    o.total,
                    o.discount,
                    o.status,
                    now,
                )
            )
        purchases_insert(rows=rows)
        with_lines = [o for o in fresh if o.lines]
        ids = (
            dict(
                Purchase.objects.for_shop(shop)
                .filter(source=SOURCE, external_id__in=[o.external_id for o in with_lines])
                .values_list("external_id", "pk")
            )
            if with_lines
            else {}
        )
        lines = [
            (
                shop.pk,
                ids[o.external_id],
                line.product_id,
                line.name,
                line.quantity,
                line.unit_price,
                line.quantity * line.unit_price,
            )
            for o in with_lines
            for line in o.lines
        ]
        lines_insert(rows=lines)
        purchases = rows
        self.ctx.counts["purchases_created"] += len(purchases)
        self.ctx.counts["lines_created"] += len(lines)
