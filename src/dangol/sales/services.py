from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from dangol.customers.models import Customer
from dangol.sales.models import (
    Product,
    Purchase,
    PurchaseLine,
    PurchaseSource,
    PurchaseStatus,
)
from dangol.sales.stats import customer_stats_rebuild
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


@dataclass(frozen=True)
class ProductInput:
    sku: str
    name: str
    price: int
    category: str = ""
    unit_cost: int = 0
    active: bool = True


@transaction.atomic
def product_bulk_upsert(*, shop: Shop, rows: Sequence[ProductInput]) -> list[tuple[Product, bool]]:
    """Create or update products by SKU (the POS's product list); returns each product with
    whether it was created. All or nothing; a SKU twice in one call is refused."""
    skus = [row.sku for row in rows]
    if len(set(skus)) != len(skus):
        raise SaleError("같은 SKU가 두 번 있습니다 / A SKU appears twice.")
    for row in rows:
        if row.price < 0 or row.unit_cost < 0:
            raise SaleError(f"{row.sku}: 가격은 0 이상 / Prices must be ≥ 0.")
    existing = {
        p.sku: p for p in Product.unscoped.select_for_update().filter(shop=shop, sku__in=skus)
    }
    fields = ("name", "price", "category", "unit_cost", "active")
    changed: list[Product] = []
    new: list[Product] = []
    result: list[tuple[Product, bool]] = []
    for row in rows:
        product = existing.get(row.sku)
        if product is None:
            product = Product(shop=shop, sku=row.sku, **{f: getattr(row, f) for f in fields})
            new.append(product)
            result.append((product, True))
            continue
        if any(getattr(product, f) != getattr(row, f) for f in fields):
            for f in fields:
                setattr(product, f, getattr(row, f))
            changed.append(product)
        result.append((product, False))
    Product.unscoped.bulk_create(new)
    Product.unscoped.bulk_update(changed, fields=list(fields))
    return result


REFUND_KINDS = ("refund", "cancel", "partial_refund")


@transaction.atomic
def purchase_refund(
    *, shop: Shop, purchase: Purchase, kind: str, refunded_total: int | None = None
) -> Purchase:
    """Mark a purchase refunded in full, cancelled, or partly refunded.

    ``refunded_total`` (partial refunds) is the amount refunded so far in all, not this
    refund's share, so a repeated call changes nothing. A refund or cancellation is final;
    repeating it is a no-op. The loyalty a purchase earned is reversed by the caller."""
    if kind not in REFUND_KINDS:
        raise SaleError(f"알 수 없는 환불 종류 / Unknown refund kind {kind!r}.")
    if purchase.shop_id != shop.pk:
        raise SaleError("다른 매장의 구매 / The purchase is not this shop's.")
    purchase = Purchase.unscoped.select_for_update().get(pk=purchase.pk)
    final = {
        "refund": PurchaseStatus.REFUNDED,
        "cancel": PurchaseStatus.CANCELLED,
    }
    if purchase.status in (PurchaseStatus.REFUNDED, PurchaseStatus.CANCELLED):
        if final.get(kind) == purchase.status:
            return purchase
        raise SaleError(
            "이미 환불되거나 취소된 구매 / The purchase is already refunded or cancelled."
        )
    if kind == "partial_refund":
        if refunded_total is None or not 1 <= refunded_total <= purchase.total:
            raise SaleError(
                "부분 환불 금액은 1원 이상 구매 금액 이하 / "
                "A partial refund is between 1 and the purchase total."
            )
        status = (
            PurchaseStatus.REFUNDED
            if refunded_total == purchase.total
            else PurchaseStatus.PARTIALLY_REFUNDED
        )
    else:
        status = final[kind]
    if status != purchase.status:
        purchase.status = status
        purchase.save(update_fields=["status"])
        if purchase.customer_id:
            customer_stats_rebuild(shop=shop, customer_ids=[purchase.customer_id])
    return purchase
