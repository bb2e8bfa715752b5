"""The demo shop gets a working loyalty programme from its own purchases."""

from __future__ import annotations

from django.utils import timezone

from dangol.demo.services import demo_shop_seed
from dangol.loyalty.demo import loyalty_demo_setup
from dangol.loyalty.models import (
    Coupon,
    CouponStatus,
    CustomerTier,
    EntryKind,
    PointsEntry,
    StampCard,
    StampEntry,
)
from dangol.loyalty.selectors import points_summary


def test_demo_shop_has_points_stamps_tiers_and_coupons_in_use(db):
    shop = demo_shop_seed(slug="demo", customers=150, months=6, seed=3, end=timezone.localdate())
    result = loyalty_demo_setup(shop=shop)
    assert result["purchases"] > 100
    entries = PointsEntry.objects.for_shop(shop)
    assert entries.filter(kind=EntryKind.EARN).count() > 100
    assert entries.filter(kind=EntryKind.REDEEM).exists()
    assert StampCard.objects.for_shop(shop).count() == 1
    assert StampEntry.objects.for_shop(shop).exists()
    assert CustomerTier.objects.for_shop(shop).exists()
    coupons = Coupon.objects.for_shop(shop)
    assert coupons.filter(status=CouponStatus.REDEEMED).exists()
    assert coupons.filter(status=CouponStatus.ISSUED).exists()
    # Balances are consistent: derived equals the posted ledger after the expiry run.
    some = entries.values_list("customer_id", flat=True).first()
    from dangol.customers.models import Customer

    customer = Customer.objects.for_shop(shop).get(pk=some)
    posted = sum(entries.filter(customer=customer).values_list("points", flat=True))
    assert points_summary(shop=shop, customer=customer).balance == posted
    # A second call changes nothing.
    before = (entries.count(), coupons.count())
    assert loyalty_demo_setup(shop=shop) == {}
    assert (entries.count(), coupons.count()) == before
