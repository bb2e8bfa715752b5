"""Test data built through the same services the product uses."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from dangol.customers.services import CustomerInput, customer_create
from dangol.sales.models import Product
from dangol.sales.services import (
    LineInput,
    PurchaseInput,
    product_bulk_create,
    purchase_bulk_create,
)
from dangol.shops.services import owner_create, shop_create, store_create

_counter = itertools.count(1)


def make_shop(slug: str, *, name: str | None = None):
    shop = shop_create(
        name=name or f"{slug} 카페",
        slug=slug,
        category="cafe",
        phone="02-555-0101",
        optout_080="080-123-4567",
    )
    store = store_create(shop=shop, code="main", name=f"{slug} 본점")
    owner = owner_create(shop=shop, username=f"owner-{slug}", password="correct horse battery")
    (product,) = product_bulk_create(
        shop=shop,
        products=[
            Product(sku="AME", name="아메리카노", category="커피", price=4500, unit_cost=1200)
        ],
    )
    return shop, store, owner, product


def make_customer(shop, *, name: str = "김민지", phone: str | None = None, **extra):
    n = next(_counter)
    # Middle blocks 2000-5899 only: 010-5970..5999 are not valid mobile numbers.
    phone = phone or f"010-{2000 + n % 3900:04d}-{(7000 + n // 3900) % 10000:04d}"
    return customer_create(shop=shop, data=CustomerInput(name=name, phone=phone, **extra))


def make_purchases(shop, store, product, customer, *, days_ago: list[int], amount_qty: int = 1):
    now = timezone.now()
    rows = [
        PurchaseInput(
            store_id=store.pk,
            customer_id=customer.pk if customer else None,
            source="pos",
            external_id=f"T-{next(_counter)}",
            occurred_at=now - dt.timedelta(days=d),
            lines=[
                LineInput(
                    product=product,
                    name=product.name,
                    quantity=amount_qty,
                    unit_price=product.price,
                )
            ],
        )
        for d in days_ago
    ]
    return purchase_bulk_create(shop=shop, rows=rows)
