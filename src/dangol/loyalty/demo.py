"""The demo shop's loyalty programme, built from its existing purchases through the services."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Count, Min, Sum
from django.utils import timezone

from dangol.customers.models import Customer
from dangol.loyalty.coupons import (
    CouponTemplateInput,
    coupon_issue,
    coupon_redeem,
    coupon_template_create,
)
from dangol.loyalty.errors import LoyaltyError
from dangol.loyalty.models import Coupon, CouponSource, CouponStatus, PointsPolicy
from dangol.loyalty.points import points_earn_for_purchases, points_expire, points_redeem
from dangol.loyalty.policies import PolicyInput, points_policy_create
from dangol.loyalty.selectors import points_balances
from dangol.loyalty.stamps import StampCardInput, stamp_card_create, stamps_award_for_purchases
from dangol.loyalty.tiers import tier_create, tier_program_set, tiers_evaluate
from dangol.sales.models import PurchaseLine, PurchaseStatus
from dangol.sales.selectors import paid_purchases
from dangol.shops.models import Shop


def _round_to(value: int, step: int) -> int:
    return max(step, round(value / step) * step)


@transaction.atomic
def loyalty_demo_setup(*, shop: Shop, now: dt.datetime | None = None) -> dict[str, int]:
    """Give a demo shop a points policy, a stamp card, tiers and coupons in use, as if the
    programme had run since its first sale. Does nothing for a shop that already has a policy."""
    now = now or timezone.now()
    if PointsPolicy.objects.for_shop(shop).exists():
        return {}
    purchases = paid_purchases(shop=shop).filter(customer__isnull=False)
    first = purchases.aggregate(t=Min("occurred_at"))["t"]
    if first is None:
        return {}
    start = first - dt.timedelta(days=1)
    points_policy_create(
        shop=shop,
        data=PolicyInput(
            earn_rate_bp=300,
            validity_months=12,
            promotions=[
                {
                    "name": "한가한 오후 2배",
                    "multiplier_pct": 200,
                    "weekdays": [0, 1, 2, 3],
                    "start_hour": 14,
                    "end_hour": 17,
                }
            ],
        ),
        now=start,
    )
    # The best seller is the stamp card's reward.
    top = (
        PurchaseLine.objects.for_shop(shop)
        .filter(product__isnull=False)
        .values("product_id")
        .annotate(n=Sum("quantity"))
        .order_by("-n")
        .first()
    )
    free_item = coupon_template_create(
        shop=shop,
        data=CouponTemplateInput(
            name="도장 10개 무료 음료",
            kind="free_item",
            product_id=top["product_id"] if top else None,
            valid_days=90,
        )
        if top
        else CouponTemplateInput(name="도장 10개 무료 음료", kind="amount", value=4500),
    )
    welcome_back = coupon_template_create(
        shop=shop,
        data=CouponTemplateInput(
            name="다시 만나요 3,000원",
            kind="amount",
            value=3000,
            min_spend=10_000,
            valid_days=30,
            per_customer_limit=1,
        ),
    )
    stamp_card_create(
        shop=shop,
        data=StampCardInput(
            name="방문 도장 10+1", stamps_required=10, mode="visit", reward_template_id=free_item.pk
        ),
    )
    ids = list(purchases.order_by("occurred_at", "pk").values_list("pk", flat=True))
    points_earn_for_purchases(shop=shop, purchase_ids=ids, now=now)
    stamps_award_for_purchases(shop=shop, purchase_ids=ids, now=now)
    points_expire(shop=shop, now=now)

    # Tiers at roughly the top 25 % and 5 % of 180-day spend.
    spends = sorted(
        v
        for v in purchases.filter(occurred_at__gte=now - dt.timedelta(days=180))
        .values("customer_id")
        .annotate(s=Sum("total"))
        .values_list("s", flat=True)
        if v
    )
    tier_program_set(shop=shop, measure="spend", window_days=180, grace_days=30)
    if spends:
        silver = _round_to(spends[int(len(spends) * 0.75)], 10_000)
        gold = max(silver + 10_000, _round_to(spends[int(len(spends) * 0.95)], 10_000))
        tier_create(shop=shop, name="실버", level=1, threshold=silver, earn_multiplier_pct=150)
        tier_create(shop=shop, name="골드", level=2, threshold=gold, earn_multiplier_pct=200)
    tiers_evaluate(shop=shop, now=now)

    # Some rewards already used, a win-back coupon for lapsed regulars, a few points spent.
    stamp_rewards = list(
        Coupon.objects.for_shop(shop)
        .filter(source=CouponSource.STAMP, status=CouponStatus.ISSUED)
        .order_by("pk")
    )
    for coupon in stamp_rewards[::2]:
        _try(lambda c=coupon: coupon_redeem(shop=shop, code=c.code, amount=12_000, now=now))
    lapsed = list(
        Customer.objects.for_shop(shop)
        .filter(purchases__status=PurchaseStatus.PAID)
        .annotate(n=Count("purchases"))
        .filter(n__gte=3)
        .order_by("pk")
        .values_list("pk", flat=True)[:12]
    )
    customers = Customer.objects.for_shop(shop).in_bulk(lapsed)
    issued = [
        _try(
            lambda c=customers[pk]: coupon_issue(
                shop=shop, template=welcome_back, customer=c, source=CouponSource.DEMO, now=now
            )
        )
        for pk in lapsed
    ]
    for coupon in [c for c in issued if c][:4]:
        _try(lambda c=coupon: coupon_redeem(shop=shop, code=c.code, amount=15_000, now=now))
    balances = points_balances(shop=shop, customer_ids=list(customers))
    spenders = [pk for pk, b in sorted(balances.items()) if b >= 2000][:5]
    for pk in spenders:
        _try(lambda c=customers[pk]: points_redeem(shop=shop, customer=c, points=1000, now=now))
    return {
        "purchases": len(ids),
        "coupons": Coupon.objects.for_shop(shop).count(),
        "redeemed": Coupon.objects.for_shop(shop).filter(status=CouponStatus.REDEEMED).count(),
    }


def _try(action):
    """Demo data is best effort: a refused step (a limit, a short balance) is skipped."""
    try:
        return action()
    except LoyaltyError:
        return None
