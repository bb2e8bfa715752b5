"""Loads a generated demo data set into the database through the domain services."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from dangol.customers.models import CreatedVia
from dangol.customers.services import (
    ConsentInput,
    CustomerInput,
    consent_bulk_record,
    customer_bulk_create,
)
from dangol.demo.generator import DemoDataset, generate_demo, ground_truth_json
from dangol.sales.models import Product, Purchase, PurchaseSource
from dangol.sales.services import (
    LineInput,
    PurchaseInput,
    product_bulk_create,
    purchase_bulk_create,
)
from dangol.shops.models import Shop
from dangol.shops.services import shop_create, store_create

Progress = Callable[[str, int, int], None]


def ground_truth_path(*, slug: str) -> Path:
    return Path(settings.DATA_DIR) / "demo" / f"{slug}-ground-truth.json"


@transaction.atomic
def demo_dataset_load(*, dataset: DemoDataset, slug: str, progress: Progress | None = None) -> Shop:
    """Write the whole data set in one transaction: a failure leaves no half-made shop."""
    report = progress or (lambda stage, done, total: None)
    shop = shop_create(
        name=dataset.shop_name,
        slug=slug,
        category=dataset.category,
        phone=dataset.phone,
        optout_080=dataset.optout_080,
        sender_numbers=list(dataset.sender_numbers),
        address=dataset.stores[0].address if dataset.stores else "",
        email="hello@dangol-coffee.example",
    )
    stores = {
        s.code: store_create(shop=shop, code=s.code, name=s.name, address=s.address)
        for s in dataset.stores
    }
    products = {
        p.sku: p
        for p in product_bulk_create(
            shop=shop,
            products=[
                Product(
                    sku=p.sku,
                    name=p.name,
                    category=p.category,
                    price=p.price,
                    unit_cost=p.unit_cost,
                )
                for p in dataset.products
            ],
        )
    }
    report("customers", 0, len(dataset.customers))
    customers = customer_bulk_create(
        shop=shop,
        created_via=CreatedVia.DEMO,
        rows=[
            CustomerInput(
                name=c.name,
                phone=c.phone,
                email=c.email or "",
                birthday=c.birthday,
                birthday_calendar=c.birthday_calendar,
                birthday_leap_month=c.birthday_leap_month,
                gender=c.gender,
                home_store=stores[c.home_store],
                created_at=c.joined_at,
            )
            for c in dataset.customers
        ],
    )
    by_key = {c.key: customer for c, customer in zip(dataset.customers, customers, strict=True)}
    report("customers", len(customers), len(dataset.customers))
    consent_bulk_record(
        items=[
            (
                by_key[c.key],
                ConsentInput(
                    kind=event.kind,
                    granted=event.granted,
                    source=event.source,
                    occurred_at=event.at,
                    wording_version="demo-2025-01",
                    evidence="demo data",
                ),
            )
            for c in dataset.customers
            for event in c.consents
        ]
    )
    rows = [
        PurchaseInput(
            store_id=stores[p.store_code].pk,
            customer_id=by_key[p.customer_key].pk if p.customer_key else None,
            source=PurchaseSource.DEMO,
            external_id=p.external_id,
            occurred_at=p.occurred_at,
            discount=p.discount,
            status=p.status,
            lines=[
                LineInput(
                    product=products[line.sku],
                    name=products[line.sku].name,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for line in p.lines
            ],
        )
        for p in dataset.purchases
    ]
    chunk = 5000
    for start in range(0, len(rows), chunk):
        purchase_bulk_create(shop=shop, rows=rows[start : start + chunk])
        report("purchases", min(start + chunk, len(rows)), len(rows))
    path = ground_truth_path(slug=slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(ground_truth_json(dataset), ensure_ascii=False, indent=1, default=str)
    )
    return shop


def demo_shop_seed(
    *,
    slug: str,
    customers: int,
    months: int,
    seed: int,
    end: dt.date,
    replace: bool = False,
    progress: Progress | None = None,
) -> Shop:
    """Generate and load a demo shop; with `replace`, the old shop goes in the same transaction,
    so a failed re-seed keeps the old shop."""
    report = progress or (lambda stage, done, total: None)
    # Generated before the transaction: SQLite holds its write lock only while rows are written.
    dataset = generate_demo(
        customers=customers,
        months=months,
        seed=seed,
        end=end,
        progress=lambda done, total: report("generate", done, total),
    )
    with transaction.atomic():
        if replace:
            # Sales protect their store from deletion, so they go first, then the shop.
            Purchase.unscoped.filter(shop__slug=slug).delete()
            Shop.objects.filter(slug=slug).delete()
        return demo_dataset_load(dataset=dataset, slug=slug, progress=progress)
