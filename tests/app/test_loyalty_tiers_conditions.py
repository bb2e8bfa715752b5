"""Tiers (rolling window, upgrade, grace, downgrade, perks, earn multiplier) and the loyalty
segment conditions (points balance, stamps, tier level) through the segment engine."""

from __future__ import annotations

import datetime as dt

import pytest

from dangol.loyalty.coupons import CouponTemplateInput, coupon_template_create
from dangol.loyalty.errors import TierError
from dangol.loyalty.models import Coupon, CouponSource, CustomerTier, PointsEntry, TierChange
from dangol.loyalty.points import points_earn_for_purchases
from dangol.loyalty.stamps import StampCardInput, stamp_add, stamp_card_create
from dangol.loyalty.tiers import tier_create, tier_program_set, tiers_evaluate
from dangol.segments.conditions import REGISTRY
from dangol.segments.engine import context_for, customers_matching
from dangol.segments.rules import RuleError, parse_rule
from tests.app.factories import make_customer
from tests.app.loyalty_helpers import T0, buy, loyalty_shop, simple_policy

DAY = dt.timedelta(days=1)


@pytest.fixture
def w(db):
    w = loyalty_shop("tier")
    w.perk = coupon_template_create(
        shop=w.shop,
        data=CouponTemplateInput(name="골드 환영", kind="amount", value=5000, valid_days=30),
    )
    tier_program_set(shop=w.shop, measure="spend", window_days=90, grace_days=30)
    w.silver = tier_create(shop=w.shop, name="실버", level=1, threshold=50_000)
    w.gold = tier_create(
        shop=w.shop, name="골드", level=2, threshold=200_000, earn_multiplier_pct=200, perk=w.perk
    )
    return w


def level(w, customer=None):
    row = (
        CustomerTier.objects.for_shop(w.shop)
        .filter(customer=customer or w.customer)
        .select_related("tier")
        .first()
    )
    return row.tier.level if row else 0


def test_upgrade_is_immediate_with_its_perk_and_downgrade_waits_for_the_grace(w):
    buy(w, at=T0 - 10 * DAY, amount=250_000)
    assert tiers_evaluate(shop=w.shop, now=T0) == {"upgraded": 1, "downgraded": 0}
    assert level(w) == 2
    perk = Coupon.objects.for_shop(w.shop).get(customer=w.customer)
    assert perk.source == CouponSource.TIER
    assert tiers_evaluate(shop=w.shop, now=T0) == {"upgraded": 0, "downgraded": 0}  # idempotent
    # The purchase leaves the 90-day window: below the threshold, but within the grace.
    later = T0 + 85 * DAY
    tiers_evaluate(shop=w.shop, now=later)
    assert level(w) == 2
    tiers_evaluate(shop=w.shop, now=later + 29 * DAY)
    assert level(w) == 2
    assert tiers_evaluate(shop=w.shop, now=later + 30 * DAY) == {"upgraded": 0, "downgraded": 1}
    assert level(w) == 0
    changes = list(
        TierChange.objects.for_shop(w.shop).order_by("at").values_list("from_level", "to_level")
    )
    assert changes == [(0, 2), (2, 0)]
    assert Coupon.objects.for_shop(w.shop).filter(customer=w.customer).count() == 1


def test_recovering_within_the_grace_keeps_the_tier(w):
    buy(w, at=T0 - 10 * DAY, amount=60_000)
    tiers_evaluate(shop=w.shop, now=T0)
    tiers_evaluate(shop=w.shop, now=T0 + 85 * DAY)  # below: grace starts
    buy(w, at=T0 + 86 * DAY, amount=60_000)
    tiers_evaluate(shop=w.shop, now=T0 + 130 * DAY)
    row = CustomerTier.objects.for_shop(w.shop).get(customer=w.customer)
    assert (row.tier_id, row.below_since) == (w.silver.pk, None)


def test_tier_multiplies_points(w):
    simple_policy(w, at=T0 - 20 * DAY, rate_bp=100)
    buy(w, at=T0 - 10 * DAY, amount=250_000)
    tiers_evaluate(shop=w.shop, now=T0)
    purchase = buy(w, at=T0 + DAY, amount=10_000)
    points_earn_for_purchases(shop=w.shop, purchase_ids=[purchase.pk], now=T0 + DAY)
    assert PointsEntry.objects.for_shop(w.shop).get(purchase=purchase).points == 200


@pytest.mark.parametrize(
    "kw",
    [
        {"name": "", "level": 3, "threshold": 500_000},
        {"name": "VIP", "level": 0, "threshold": 500_000},
        {"name": "VIP", "level": 3, "threshold": 100_000},  # lower than gold's
        {"name": "골드", "level": 3, "threshold": 500_000},
        {"name": "VIP", "level": 3, "threshold": 500_000, "earn_multiplier_pct": 50},
    ],
)
def test_bad_tiers_are_refused(w, kw):
    with pytest.raises(TierError):
        tier_create(shop=w.shop, **kw)


def test_bad_programmes_and_foreign_perks_are_refused(w):
    other = loyalty_shop("tier-other")
    theirs = coupon_template_create(
        shop=other.shop, data=CouponTemplateInput(name="x", kind="amount", value=1)
    )
    with pytest.raises(TierError):
        tier_create(shop=w.shop, name="VIP", level=3, threshold=900_000, perk=theirs)
    for kw in ({"measure": "age"}, {"measure": "spend", "window_days": 1}):
        with pytest.raises(TierError):
            tier_program_set(shop=w.shop, **kw)


# --- segment conditions ---------------------------------------------------------------------


def members(w, rule, now):
    ctx = context_for(shop=w.shop, now=now)
    return set(customers_matching(parse_rule(rule), ctx).values_list("pk", flat=True))


def test_loyalty_conditions_are_registered_and_validated():
    assert {"points_balance", "stamps", "tier_level"} <= set(REGISTRY)
    with pytest.raises(RuleError):
        parse_rule({"all": [{"condition": "points_balance", "op": "gte", "value": -1}]})


def test_points_stamps_and_tier_conditions_select_the_right_customers(w, django_assert_num_queries):
    simple_policy(w, at=T0 - 30 * DAY, rate_bp=1000)
    rich, poor, none = (
        w.customer,
        make_customer(w.shop, name="가"),
        make_customer(w.shop, name="나"),
    )
    p1 = buy(w, at=T0 - 10 * DAY, amount=250_000, customer=rich)  # 25,000 points, gold
    p2 = buy(w, at=T0 - 10 * DAY, amount=20_000, customer=poor)  # 2,000 points
    points_earn_for_purchases(shop=w.shop, purchase_ids=[p1.pk, p2.pk], now=T0)
    tiers_evaluate(shop=w.shop, now=T0)
    reward = coupon_template_create(
        shop=w.shop, data=CouponTemplateInput(name="r", kind="amount", value=1000)
    )
    card = stamp_card_create(
        shop=w.shop,
        data=StampCardInput(
            name="c", stamps_required=10, mode="visit", reward_template_id=reward.pk
        ),
    )
    stamp_add(shop=w.shop, card=card, customer=poor, stamps=3)

    def rule(key, op, value):
        return {"all": [{"condition": key, "op": op, "value": value}]}

    ctx = context_for(shop=w.shop, now=T0)
    node = parse_rule(rule("points_balance", "gte", 10_000))
    with django_assert_num_queries(1):  # one set-based query, whatever the number of customers
        got = set(customers_matching(node, ctx).values_list("pk", flat=True))
    assert got == {rich.pk}
    assert members(w, rule("points_balance", "lt", 5000), T0) == {poor.pk, none.pk}
    assert members(w, rule("stamps", "gte", 3), T0) == {poor.pk}
    assert members(w, rule("stamps", "eq", 0), T0) == {rich.pk, none.pk}
    assert members(w, rule("tier_level", "gte", 2), T0) == {rich.pk}
    assert members(w, rule("tier_level", "eq", 0), T0) == {poor.pk, none.pk}
    ids = [rich.pk, poor.pk, none.pk]
    params = {"op": "gte", "value": 0}
    assert REGISTRY["points_balance"].values(params, ctx, ids) == {
        rich.pk: 25_000,
        poor.pk: 2000,
        none.pk: 0,
    }
    assert REGISTRY["tier_level"].values(params, ctx, ids) == {rich.pk: 2, poor.pk: 0, none.pk: 0}
    assert REGISTRY["stamps"].describe({"op": "gte", "value": 3})[0] == "도장 3개 이상"
