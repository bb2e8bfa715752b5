"""Reads behind the POS API: purchases by external id, customers by phone (every blind-index
key, so that a key rotation in progress finds them), products by SKU, and what the counter may
see of a customer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone

from dangol.core.phone import mask_phone
from dangol.customers.models import Customer
from dangol.customers.selectors import customer_queryset
from dangol.customers.services import phone_blind_indexes
from dangol.loyalty.models import Coupon
from dangol.loyalty.selectors import (
    CardProgress,
    PointsSummary,
    coupon_usable,
    points_summary,
    stamp_progress,
)
from dangol.sales.models import Product, Purchase
from dangol.shops.models import Shop


def purchases_by_external_id(
    *, shop: Shop, source: str, external_ids: Sequence[str]
) -> dict[str, Purchase]:
    if not external_ids:
        return {}
    return {
        p.external_id: p
        for p in Purchase.objects.for_shop(shop).filter(
            source=source, external_id__in=list(external_ids)
        )
    }


def customers_by_phone(*, shop: Shop, phones: Iterable[str]) -> dict[str, Customer]:
    """Customers (not merged away) by E.164 phone; phones must already be normalised."""
    by_index: dict[str, str] = {}
    for phone in set(phones):
        for index in phone_blind_indexes(shop_id=shop.pk, phone_e164=phone):
            by_index[index] = phone
    if not by_index:
        return {}
    found: dict[str, Customer] = {}
    for customer in customer_queryset(shop=shop).filter(phone_bidx__in=list(by_index)):
        found.setdefault(by_index[customer.phone_bidx], customer)
    return found


def products_by_sku(*, shop: Shop, skus: Sequence[str]) -> dict[str, Product]:
    if not skus:
        return {}
    return {p.sku: p for p in Product.objects.for_shop(shop).filter(sku__in=list(skus))}


@dataclass(frozen=True)
class CounterView:
    """What the POS may show at the counter: no name beyond its first character, the phone
    masked, and the customer's loyalty."""

    customer_id: int
    name_initial: str
    phone_masked: str
    points: PointsSummary
    stamps: list[CardProgress]
    coupons: list[Coupon]


def customer_counter_view(
    *, shop: Shop, customer: Customer, now: dt.datetime | None = None
) -> CounterView:
    now = now or timezone.now()
    return CounterView(
        customer_id=customer.pk,
        name_initial=(customer.name or "")[:1],
        phone_masked=mask_phone(customer.phone) if customer.phone else "",
        points=points_summary(shop=shop, customer=customer, now=now),
        stamps=stamp_progress(shop=shop, customer=customer),
        coupons=coupon_usable(shop=shop, customer=customer, now=now),
    )
