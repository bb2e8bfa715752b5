"""Stamp cards: per visit and per item, rewards on a full card, double taps, refunds."""

from __future__ import annotations

import datetime as dt

import pytest

from dangol.loyalty.coupons import CouponTemplateInput, coupon_template_create
from dangol.loyalty.errors import StampError
from dangol.loyalty.models import Coupon, CouponSource, StampEntry
from dangol.loyalty.selectors import stamp_progress
from dangol.loyalty.stamps import (
    StampCardInput,
    stamp_add,
    stamp_card_create,
    stamps_award_for_purchases,
    stamps_reverse_for_purchase,
)
from tests.app.loyalty_helpers import T0, buy, loyalty_shop, mark_refunded

DAY = dt.timedelta(days=1)


@pytest.fixture
def w(db):
    w = loyalty_shop("stp")
    w.reward = coupon_template_create(
        shop=w.shop,
        data=CouponTemplateInput(
            name="아메리카노 1잔", kind="free_item", product_id=w.coffee.pk, valid_days=90
        ),
    )
    return w


@pytest.fixture
def other(db):
    return loyalty_shop("stp-other")


def card(w, **kw):
    data = {
        "name": "커피 10+1",
        "stamps_required": 3,
        "mode": "visit",
        "reward_template_id": w.reward.pk,
    }
    return stamp_card_create(shop=w.shop, data=StampCardInput(**(data | kw)))


def stamps_of(w, c):
    return {p.card.pk: p.stamps for p in stamp_progress(shop=w.shop, customer=w.customer)}[c.pk]


def test_a_visit_stamp_each_and_a_full_card_issues_its_reward(w):
    c = card(w, min_amount=3000)
    purchases = [buy(w, at=T0 + i * DAY, amount=a) for i, a in enumerate([5000, 2000, 5000, 5000])]
    given = stamps_award_for_purchases(shop=w.shop, purchase_ids=[p.pk for p in purchases], now=T0)
    assert given == 3  # the 2,000 won purchase is below the minimum
    assert stamps_award_for_purchases(shop=w.shop, purchase_ids=[p.pk for p in purchases]) == 0
    assert stamps_of(w, c) == 0
    (reward,) = Coupon.objects.for_shop(w.shop).filter(customer=w.customer)
    assert (reward.source, reward.template_id) == (CouponSource.STAMP, w.reward.pk)


def test_per_item_stamps_count_only_listed_categories_and_can_fill_twice(w):
    c = card(w, mode="item", categories=["커피"])
    p = buy(w, at=T0, items=[(w.coffee, 7), (w.cake, 3)])
    assert stamps_award_for_purchases(shop=w.shop, purchase_ids=[p.pk], now=T0) == 7
    assert stamps_of(w, c) == 1
    assert Coupon.objects.for_shop(w.shop).filter(customer=w.customer).count() == 2


def test_a_double_tap_stamps_once(w):
    c = card(w)
    first = stamp_add(shop=w.shop, card=c, customer=w.customer, key="tap-1", user=w.staff)
    second = stamp_add(shop=w.shop, card=c, customer=w.customer, key="tap-1", user=w.staff)
    assert first.pk == second.pk and stamps_of(w, c) == 1


def test_refund_takes_back_stamps_not_yet_rewarded(w):
    c = card(w)
    p1, p2 = buy(w, at=T0, amount=5000), buy(w, at=T0 + DAY, amount=5000)
    stamps_award_for_purchases(shop=w.shop, purchase_ids=[p1.pk, p2.pk], now=T0 + DAY)
    mark_refunded(p2)
    assert stamps_reverse_for_purchase(shop=w.shop, purchase=p2) == 1
    assert stamps_reverse_for_purchase(shop=w.shop, purchase=p2) == 0  # once
    assert stamps_of(w, c) == 1


@pytest.mark.parametrize(
    "kw",
    [
        {"name": ""},
        {"stamps_required": 1},
        {"stamps_required": 51},
        {"mode": "hourly"},
        {"min_amount": -1},
        {"reward_template_id": 0},
    ],
)
def test_bad_cards_are_refused(w, kw):
    with pytest.raises(StampError) as err:
        card(w, **kw)
    assert err.value.code == "invalid_card"


def test_stamping_refuses_bad_input(w, other):
    c = card(w)
    cases = [
        ({"card": c, "customer": other.customer}, "foreign_customer"),
        ({"card": c, "customer": w.customer, "stamps": 0}, "invalid_stamps"),
        ({"card": c, "customer": w.customer, "stamps": 4}, "invalid_stamps"),
        ({"card": c, "customer": w.customer, "stamps": -1}, "invalid_stamps"),
    ]
    for kw, code in cases:
        with pytest.raises(StampError) as err:
            stamp_add(shop=w.shop, **kw)
        assert err.value.code == code
    with pytest.raises(StampError) as err:
        stamp_add(shop=other.shop, card=c, customer=other.customer)
    assert err.value.code == "foreign_card"
    with pytest.raises(StampError) as err:
        stamps_award_for_purchases(shop=w.shop, purchase_ids=[buy(other, at=T0, amount=1).pk])
    assert err.value.code == "foreign_purchase"
    assert not StampEntry.objects.for_shop(w.shop).exists()
