"""A chunk of checked orders → rows in the database: the idempotency check, the customers
(found by phone or created), the purchases and their lines.

Re-importing skips every (source "import", external id) the shop already has.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection

from dangol.customers.models import CreatedVia, CustomerIdentity, IdentityKind
from dangol.customers.services import CustomerInput, customer_bulk_create, phone_blind_indexes
from dangol.imports.bulk import (
    datetime_adapter,
    lines_insert,
    purchase_ids,
    purchase_ids_after,
    purchase_last_id,
    purchases_exist,
    purchases_insert,
)
from dangol.imports.context import Context
from dangol.sales.models import PurchaseSource

SOURCE = PurchaseSource.IMPORT


@dataclass(slots=True)
class Line:
    product_id: int | None
    name: str
    quantity: int
    unit_price: int


@dataclass(slots=True)
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


class PurchaseBatches:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.customers: dict[str, int] = {}  # E.164 → customer id
        self.touched: set[int] = set()
        self.moment = datetime_adapter()
        # SQLite has one writer at a time, and this file's transaction is it until it commits:
        # a shop without imported purchases when the file starts can only meet the file's own
        # order ids (which the rows already refuse as duplicates), and the ids of the rows
        # this writer inserts are exactly those above the largest id before the insert. Other
        # databases look each chunk's ids up.
        self.one_writer = connection.vendor == "sqlite"
        self.check_existing = not self.one_writer or purchases_exist(
            shop_id=ctx.shop.pk, source=SOURCE.value
        )

    def _customer_ids(self, orders: list[Order]) -> None:
        shop = self.ctx.shop
        wanted = {o.phone for o in orders if o.phone and o.phone not in self.customers}
        if not wanted:
            return
        # Every blind-index key, so a key rotation in progress finds everyone.
        bidx = {i: p for p in wanted for i in phone_blind_indexes(shop_id=shop.pk, phone_e164=p)}
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

    def flush(self, orders: list[Order]) -> None:
        if not orders or not self.ctx.writing:
            return
        shop_id = self.ctx.shop.pk
        existing = (
            purchase_ids(
                shop_id=shop_id, source=SOURCE.value, external_ids=[o.external_id for o in orders]
            )
            if self.check_existing
            else {}
        )
        fresh = [o for o in orders if o.external_id not in existing]
        self.ctx.counts["purchases_existing"] += len(orders) - len(fresh)
        self._customer_ids(fresh)
        moment = self.moment
        now = moment(self.ctx.now)
        customers = self.customers
        rows = []
        for o in fresh:
            customer_id = customers.get(o.phone) if o.phone else None
            if customer_id:
                self.touched.add(customer_id)
            rows.append(
                (
                    shop_id,
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
        last = purchase_last_id() if self.one_writer else 0
        purchases_insert(rows=rows)
        with_lines = [o for o in fresh if o.lines]
        if not with_lines:
            ids = {}
        elif self.one_writer:
            ids = purchase_ids_after(shop_id=shop_id, source=SOURCE.value, after=last)
        else:
            ids = purchase_ids(
                shop_id=shop_id,
                source=SOURCE.value,
                external_ids=[o.external_id for o in with_lines],
            )
        lines = [
            (
                shop_id,
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
        self.ctx.counts["purchases_created"] += len(rows)
        self.ctx.counts["lines_created"] += len(lines)
