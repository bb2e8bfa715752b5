"""Reads of the check-in tablet and the customer's own page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from dangol.customers.models import Customer
from dangol.loyalty.models import Checkin, CheckinDevice, Coupon, CustomerTier, Tier
from dangol.loyalty.selectors import (
    CardProgress,
    PointsSummary,
    coupon_usable,
    points_summary,
    stamp_progress,
)
from dangol.shops.models import Shop


def checkin_device_list(*, shop: Shop) -> list[CheckinDevice]:
    return list(
        CheckinDevice.objects.for_shop(shop).select_related("store").order_by("-created_at", "pk")
    )


def checkin_device_get(*, shop: Shop, device_id: int) -> CheckinDevice | None:
    """The shop's device, or None for an unknown or another shop's id (the same answer)."""
    return CheckinDevice.objects.for_shop(shop).filter(pk=device_id).first()


def checkin_recent(*, shop: Shop, device: CheckinDevice, limit: int = 10) -> list[Checkin]:
    return list(
        Checkin.objects.for_shop(shop).filter(device=device).order_by("-occurred_at")[:limit]
    )


@dataclass(frozen=True)
class LoyaltyCard:
    points: PointsSummary
    stamps: list[CardProgress]
    coupons: list[Coupon]
    tier: Tier | None


def loyalty_card(*, shop: Shop, customer: Customer, now: dt.datetime | None = None) -> LoyaltyCard:
    """What a customer has with the shop: points (and expiring soon), stamps, usable coupons
    and tier, all derived from the ledgers."""
    now = now or timezone.now()
    row = (
        CustomerTier.objects.for_shop(shop)
        .filter(customer_id=customer.pk)
        .select_related("tier")
        .first()
    )
    return LoyaltyCard(
        points=points_summary(shop=shop, customer=customer, now=now),
        stamps=stamp_progress(shop=shop, customer=customer),
        coupons=coupon_usable(shop=shop, customer=customer, now=now),
        tier=row.tier if row else None,
    )
