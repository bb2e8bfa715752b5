"""Shared set-up of the loyalty tests: shops, purchases at a given time, a points policy."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

from dangol.loyalty.points import PolicyInput, points_policy_create
from dangol.sales.models import Product, Purchase, PurchaseStatus
from dangol.sales.services import (
    LineInput,
    PurchaseInput,
    product_bulk_create,
    purchase_bulk_create,
)
from dangol.shops.services import membership_grant
from tests.app.factories import make_customer, make_shop

_ids = itertools.count(1)

# 12:00 in Seoul on a Wednesday.
T0 = dt.datetime(2026, 1, 7, 3, 0, tzinfo=dt.UTC)


def loyalty_shop(slug: str):
    """A shop with two products in two categories, an owner, a staff member and a customer."""
    from django.contrib.auth import get_user_model

    shop, store, owner, coffee = make_shop(slug)
    (cake,) = product_bulk_create(
        shop=shop,
        products=[
            Product(sku="CAKE", name="치즈케이크", category="디저트", price=6500, unit_cost=2500)
        ],
    )
    staff = get_user_model().objects.create_user(username=f"staff-{slug}", password="pw-staff-123")
    membership_grant(shop=shop, user=staff, role="staff")
    customer = make_customer(shop, name="이서연")
    return SimpleNamespace(
        shop=shop,
        store=store,
        owner=owner,
        staff=staff,
        coffee=coffee,
        cake=cake,
        customer=customer,
    )


def buy(
    w,
    *,
    at: dt.datetime,
    amount: int | None = None,
    customer=None,
    items: list[tuple[Product, int]] | None = None,
    status: str = PurchaseStatus.PAID,
) -> Purchase:
    """One purchase of ``w.customer`` (or ``customer``) at ``at``: either one line of
    ``amount`` won, or the given (product, quantity) lines at list price."""
    if items is None:
        lines = [LineInput(product=None, name="기타", quantity=1, unit_price=amount or 0)]
    else:
        lines = [
            LineInput(product=p, name=p.name, quantity=q, unit_price=p.price) for p, q in items
        ]
    who = customer if customer is not None else w.customer
    (purchase,) = purchase_bulk_create(
        shop=w.shop,
        rows=[
            PurchaseInput(
                store_id=w.store.pk,
                customer_id=who.pk if who else None,
                source="pos",
                external_id=f"L-{next(_ids)}",
                occurred_at=at,
                status=status,
                lines=lines,
            )
        ],
    )
    return purchase


def mark_refunded(purchase: Purchase, status: str = PurchaseStatus.REFUNDED) -> Purchase:
    """What the sales app does on a refund (outside this app): the status changes."""
    Purchase.unscoped.filter(pk=purchase.pk).update(status=status)
    purchase.refresh_from_db()
    return purchase


def simple_policy(w, *, at: dt.datetime, rate_bp: int = 500, per_visit: int = 0, months: int = 12):
    return points_policy_create(
        shop=w.shop,
        data=PolicyInput(earn_rate_bp=rate_bp, points_per_visit=per_visit, validity_months=months),
        user=w.owner,
        now=at,
    )
