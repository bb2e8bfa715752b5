from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Max, Min, Sum

from dangol.customers.models import Customer
from dangol.sales.models import (
    CustomerStats,
    Product,
    Purchase,
    PurchaseLine,
    PurchaseSource,
    PurchaseStatus,
)
from dangol.shops.models import Shop, Store


class SaleError(ValueError):
    pass


@dataclass(frozen=True)
class LineInput:
    product: Product | None
    name: str
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class PurchaseInput:
    store_id: int
    customer_id: int | None
    source: str
    external_id: str
    occurred_at: dt.datetime
    discount: int = 0
    status: str = PurchaseStatus.PAID
    lines: Sequence[LineInput] = field(default_factory=tuple)


def product_bulk_create(*, shop: Shop, products: Iterable[Product]) -> list[Product]:
    rows = list(products)
    for row in rows:
        row.shop = shop
    return Product.unscoped.bulk_create(rows)


def _check_owned(*, shop: Shop, rows: Sequence[PurchaseInput]) -> None:
    """Stores and customers must be the shop's own: one query each, not one per row."""
    store_ids = {row.store_id for row in rows}
    customer_ids = {row.customer_id for row in rows if row.customer_id is not None}
    own_stores = set(
        Store.unscoped.filter(shop=shop, pk__in=store_ids).values_list("pk", flat=True)
    )
    own_customers = set(
        Customer.unscoped.filter(shop=shop, pk__in=customer_ids).values_list("pk", flat=True)
    )
    for index, row in enumerate(rows, start=1):
        if row.store_id not in own_stores:
            raise SaleError(f"{index}: 다른 매장의 지점 / Row {index}: store is not this shop's.")
        if row.customer_id is not None and row.customer_id not in own_customers:
            raise SaleError(
                f"{index}: 다른 매장의 고객 / Row {index}: customer is not this shop's."
            )


def _validate(data: PurchaseInput, index: int) -> int:
    if data.source not in PurchaseSource.values:
        raise SaleError(f"{index}: 알 수 없는 출처 / Row {index}: unknown source {data.source!r}.")
    if data.status not in PurchaseStatus.values:
        raise SaleError(f"{index}: 알 수 없는 상태 / Row {index}: unknown status {data.status!r}.")
    if data.occurred_at.tzinfo is None:
        raise SaleError(f"{index}: 시각에 시간대가 없습니다 / Row {index}: naive timestamp.")
    if data.discount < 0:
        raise SaleError(f"{index}: 할인은 음수일 수 없습니다 / Row {index}: negative discount.")
    gross = 0
    for line in data.lines:
        if line.quantity <= 0:
            raise SaleError(f"{index}: 수량은 1 이상 / Row {index}: quantity must be ≥ 1.")
        gross += line.quantity * line.unit_price
    if gross < data.discount:
        raise SaleError(f"{index}: 할인이 금액보다 큽니다 / Row {index}: discount exceeds total.")
    return gross - data.discount


@transaction.atomic
def purchase_bulk_create(
    *, shop: Shop, rows: Sequence[PurchaseInput], batch_size: int = 2000
) -> list[Purchase]:
    """Write many purchases and their lines in one transaction; all or nothing."""
    _check_owned(shop=shop, rows=rows)
    purchases = [
        Purchase(
            shop=shop,
            store_id=row.store_id,
            customer_id=row.customer_id,
            source=row.source,
            external_id=row.external_id,
            occurred_at=row.occurred_at,
            total=_validate(row, index),
            discount=row.discount,
            status=row.status,
        )
        for index, row in enumerate(rows, start=1)
    ]
    Purchase.unscoped.bulk_create(purchases, batch_size=batch_size)
    lines = [
        PurchaseLine(
            shop=shop,
            purchase=purchase,
            product=line.product,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.quantity * line.unit_price,
        )
        for purchase, row in zip(purchases, rows, strict=True)
        for line in row.lines
    ]
    PurchaseLine.unscoped.bulk_create(lines, batch_size=batch_size)
    customer_stats_rebuild(
        shop=shop, customer_ids=sorted({r.customer_id for r in rows if r.customer_id})
    )
    return purchases


STATS_CHUNK = 20_000


@transaction.atomic
def customer_stats_rebuild(*, shop: Shop, customer_ids: Sequence[int] | None = None) -> int:
    """Recompute ``CustomerStats`` from paid purchases for these customers (None: all of the
    shop's); returns how many rows now exist for them. Called by every service that writes
    purchases, in the same transaction."""
    if customer_ids is None:
        ids = None
        chunks: list[Sequence[int] | None] = [None]
    else:
        ids = list(customer_ids)
        chunks = [ids[i : i + STATS_CHUNK] for i in range(0, len(ids), STATS_CHUNK)]
    stats = CustomerStats.objects.for_shop(shop)
    written = 0
    for chunk in chunks:
        paid = Purchase.objects.for_shop(shop).filter(
            status=PurchaseStatus.PAID, customer__isnull=False
        )
        old = stats
        if chunk is not None:
            paid = paid.filter(customer_id__in=chunk)
            old = stats.filter(customer_id__in=chunk)
        old.delete()
        masks: dict[int, int] = {}
        months = paid.order_by().values_list("customer_id", "occurred_at__month").distinct()
        for customer_id, month in months.iterator(chunk_size=STATS_CHUNK):
            masks[customer_id] = masks.get(customer_id, 0) | (1 << (month - 1))
        totals = (
            paid.order_by()
            .values("customer_id")
            .annotate(
                n=Count("pk"), s=Sum("total"), first=Min("occurred_at"), last=Max("occurred_at")
            )
        )
        rows = [
            CustomerStats(
                shop=shop,
                customer_id=t["customer_id"],
                visits=t["n"],
                total_spend=t["s"],
                avg_ticket=t["s"] / t["n"],
                first_purchase_at=t["first"],
                last_purchase_at=t["last"],
                months_mask=masks.get(t["customer_id"], 0),
            )
            for t in totals.iterator(chunk_size=STATS_CHUNK)
        ]
        stats.bulk_create(rows, batch_size=5000)
        written += len(rows)
    return written
