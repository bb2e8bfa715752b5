"""Services refuse what would cross shops or take over accounts, and write all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dangol.customers.models import Customer
from dangol.customers.selectors import customer_search
from dangol.demo.services import demo_shop_seed
from dangol.sales.models import Purchase
from dangol.sales.services import LineInput, PurchaseInput, SaleError, purchase_bulk_create
from dangol.shops.models import Membership, Shop
from dangol.shops.services import ShopError, owner_create
from tests.app.factories import make_purchases


def _row(store_id, customer_id, external_id="X-1", **extra):
    return PurchaseInput(
        store_id=store_id,
        customer_id=customer_id,
        source=extra.pop("source", "pos"),
        external_id=external_id,
        occurred_at=timezone.now(),
        lines=[LineInput(product=None, name="라떼", quantity=1, unit_price=5000)],
        **extra,
    )


@pytest.mark.parametrize("which", ["customer", "store"])
def test_purchases_cannot_point_at_another_shop(two_shops, which):
    a, b = two_shops.a, two_shops.b
    store = b.store.pk if which == "store" else a.store.pk
    customer = b.customer.pk if which == "customer" else a.customer.pk
    before = Purchase.unscoped.count()
    rows = [_row(a.store.pk, a.customer.pk, "OK-1"), _row(store, customer, "BAD-2")]
    with pytest.raises(SaleError, match="Row 2"):
        purchase_bulk_create(shop=a.shop, rows=rows)
    assert Purchase.unscoped.count() == before


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"source": "fax"}, "unknown source"),
        ({"status": "lost"}, "unknown status"),
        ({"discount": 6000}, "discount exceeds"),
        ({"discount": -1}, "negative discount"),
    ],
)
def test_bad_purchase_rows_are_refused_whole(two_shops, extra, reason):
    a = two_shops.a
    before = Purchase.unscoped.count()
    with pytest.raises(SaleError, match=reason):
        purchase_bulk_create(shop=a.shop, rows=[_row(a.store.pk, None, "N-1", **extra)])
    naive = PurchaseInput(
        store_id=a.store.pk,
        customer_id=None,
        source="pos",
        external_id="N-2",
        occurred_at=dt.datetime(2025, 1, 1, 10, 0),
    )
    with pytest.raises(SaleError, match="naive"):
        purchase_bulk_create(shop=a.shop, rows=[naive])
    assert Purchase.unscoped.count() == before


def test_owner_create_never_takes_over_an_existing_login(two_shops):
    with pytest.raises(ShopError):
        owner_create(shop=two_shops.b.shop, username="owner-alpha", password="another-password-1")
    alpha_owner = two_shops.a.owner
    alpha_owner.refresh_from_db()
    assert alpha_owner.check_password("correct horse battery")
    assert Membership.unscoped.filter(user=alpha_owner).count() == 1


def test_customer_page_counts_the_whole_history(client, two_shops):
    a = two_shops.a
    make_purchases(a.shop, a.store, a.product, a.customer, days_ago=list(range(50, 155)))
    client.force_login(a.owner)
    body = client.get(reverse("web:customer", args=[a.customer.pk])).content.decode()
    assert "<dd>108</dd>" in body  # 3 from the fixture + 105, though the timeline shows 100
    assert body.count('class="paid"') == 100
    api = client.get(f"/api/v1/customers/{a.customer.pk}").json()
    assert api["visits"] == 108


@pytest.mark.parametrize("spelling", ["01011112222", "+82 10-1111-2222", "(010) 1111-2222"])
def test_search_by_whole_phone_in_any_spelling(two_shops, spelling):
    found = list(customer_search(shop=two_shops.a.shop, query=spelling))
    assert found == [two_shops.a.customer]


def test_reseeding_the_demo_replaces_the_shop(db):
    end = dt.date(2026, 6, 30)
    first = demo_shop_seed(slug="demo", customers=30, months=3, seed=1, end=end)
    with pytest.raises(ShopError):
        demo_shop_seed(slug="demo", customers=30, months=3, seed=1, end=end)
    second = demo_shop_seed(slug="demo", customers=20, months=3, seed=2, end=end, replace=True)
    assert not Shop.objects.filter(pk=first.pk).exists()
    assert Shop.objects.filter(slug="demo").get() == second
    assert Customer.unscoped.count() == 20
    assert not Purchase.unscoped.filter(shop_id=first.pk).exists()
