"""The demo café lands in the database whole, deterministically, with its ground truth."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from django.db.models import Count, Sum

from dangol.core.phone import format_phone
from dangol.customers.models import ConsentEvent, Customer
from dangol.demo.generator import generate_demo
from dangol.demo.services import demo_dataset_load, ground_truth_path
from dangol.sales.models import Purchase, PurchaseLine
from dangol.shops.models import Shop, Store
from dangol.shops.services import ShopError

END = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def dataset():
    return generate_demo(customers=200, months=6, seed=11, end=END)


def test_load_writes_every_row(db, dataset):
    shop = demo_dataset_load(dataset=dataset, slug="demo")
    assert Store.unscoped.filter(shop=shop).count() == len(dataset.stores)
    assert Customer.unscoped.filter(shop=shop).count() == len(dataset.customers)
    assert Purchase.unscoped.filter(shop=shop).count() == len(dataset.purchases)
    assert PurchaseLine.unscoped.filter(shop=shop).count() == sum(
        len(p.lines) for p in dataset.purchases
    )
    assert ConsentEvent.unscoped.filter(shop=shop).count() == sum(
        len(c.consents) for c in dataset.customers
    )
    total = Purchase.unscoped.filter(shop=shop).aggregate(s=Sum("total"))["s"]
    assert total == sum(p.total for p in dataset.purchases)
    walk_ins = Purchase.unscoped.filter(shop=shop, customer__isnull=True).count()
    assert walk_ins == sum(1 for p in dataset.purchases if p.customer_key is None)


def test_each_customer_keeps_their_planted_history(db, dataset):
    shop = demo_dataset_load(dataset=dataset, slug="demo")
    planted = Counter(p.customer_key for p in dataset.purchases if p.customer_key)
    by_phone = {c.phone: c for c in dataset.customers}
    counts = dict(
        Purchase.unscoped.filter(shop=shop, customer__isnull=False)
        .values_list("customer_id")
        .annotate(n=Count("pk"))
    )
    for customer in Customer.unscoped.filter(shop=shop):
        demo = by_phone[format_phone(customer.phone)]
        assert customer.name == demo.name
        assert counts.get(customer.pk, 0) == planted[demo.key]
        assert customer.created_at == demo.joined_at
        assert customer.birthday == demo.birthday


def test_ground_truth_file_is_written(db, dataset):
    demo_dataset_load(dataset=dataset, slug="demo")
    truth = json.loads(ground_truth_path(slug="demo").read_text())
    assert truth["seed"] == 11
    patterns = truth["patterns"]
    assert sum(len(keys) for keys in patterns.values()) == len(dataset.customers)
    assert {"broken_habit", "lapsed", "thursday_group", "one_timer"} <= set(patterns)


def test_second_load_with_same_slug_changes_nothing(db, dataset):
    demo_dataset_load(dataset=dataset, slug="demo")
    before = (Shop.objects.count(), Customer.unscoped.count(), Purchase.unscoped.count())
    with pytest.raises(ShopError):
        demo_dataset_load(dataset=dataset, slug="demo")
    assert (Shop.objects.count(), Customer.unscoped.count(), Purchase.unscoped.count()) == before
