"""Loyalty values in campaign messages: the caller (automations) reads them and passes them
in; the messaging layer only renders what it is given."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangol.automations.selectors import FILLED, campaign_forecast, template_values
from dangol.automations.services import campaign_send
from dangol.core.tenancy import shop_scope
from dangol.loyalty.checkin import customer_page_read
from dangol.loyalty.coupons import CouponTemplateInput, coupon_template_create
from dangol.loyalty.points import points_adjust
from dangol.loyalty.stamps import StampCardInput, stamp_add, stamp_card_create
from dangol.messaging.models import OutboxMessage
from dangol.messaging.services import template_create
from dangol.sales.models import PurchaseStatus
from dangol.sales.services import LineInput, PurchaseInput, purchase_bulk_create
from dangol.segments.services import segment_create
from tests.app.factories import make_customer

AFTERNOON = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_a_campaign_fills_each_members_points_balance(two_shops):
    a = two_shops.a
    shop = a.shop
    other = make_customer(shop, name="이서연", phone="010-5555-6666")
    with shop_scope(shop):
        points_adjust(shop=shop, customer=a.customer, points=1200, reason="이벤트", user=a.owner)
        segment = segment_create(
            shop=shop, name="모두", rule={"condition": "visits", "op": "gte", "value": 0}
        )
        template = template_create(
            shop=shop,
            name="포인트 안내",
            channel="sms",
            kind="info",
            body="{name}님, {shop} 포인트가 {points}점 있어요",
        )
        forecast = campaign_forecast(shop=shop, segment=segment, template=template, now=AFTERNOON)
        added = campaign_send(
            shop=shop, segment=segment, template=template, occurrence="p1", scheduled_for=AFTERNOON
        )
        queued = OutboxMessage.objects.for_shop(shop).filter(source=f"segment:{segment.pk}")
        bodies = {m.customer_id: m.body for m in queued}
    assert "points" in FILLED
    assert forecast.checked == added == len(bodies) >= 2
    assert bodies[a.customer.pk] == f"김민지님, {shop.name} 포인트가 1,200점 있어요"
    assert bodies[other.pk] == f"이서연님, {shop.name} 포인트가 0점 있어요"
    # The other shop's ledger and customers are not read.
    assert two_shops.b.customer.pk not in bodies


def _buy(shop, store, customer, items, *, days_ago: int, status: str = PurchaseStatus.PAID):
    purchase_bulk_create(
        shop=shop,
        rows=[
            PurchaseInput(
                store_id=store.pk,
                customer_id=customer.pk,
                source="pos",
                external_id=f"F-{customer.pk}-{days_ago}-{status}",
                occurred_at=timezone.now() - dt.timedelta(days=days_ago),
                status=status,
                lines=[LineInput(None, name, 1, 4000) for name in items],
            )
        ],
    )


def _card(shop, product):
    reward = coupon_template_create(
        shop=shop,
        data=CouponTemplateInput(name="음료 1잔", kind="free_item", product_id=product.pk),
    )
    return stamp_card_create(
        shop=shop,
        data=StampCardInput(
            name="커피 도장", stamps_required=10, mode="visit", reward_template_id=reward.pk
        ),
    )


@pytest.mark.django_db
def test_a_campaign_fills_favourite_item_stamps_and_the_customers_own_link(two_shops):
    a = two_shops.a
    shop, store = a.shop, a.store
    # 김민지 has three paid americanos (the fixture) and one latte.
    tie = make_customer(shop, name="이서연", phone="010-5555-6666")
    refunded = make_customer(shop, name="박하늘", phone="010-5555-7777")
    nothing = make_customer(shop, name="최다온", phone="010-5555-8888")
    with shop_scope(shop):
        _buy(shop, store, a.customer, ["라떼"], days_ago=3)
        # Two each: the one bought most recently wins.
        _buy(shop, store, tie, ["라떼", "스콘"], days_ago=9)
        _buy(shop, store, tie, ["스콘"], days_ago=6)
        _buy(shop, store, tie, ["라떼"], days_ago=2)
        # A refunded sale is not a purchase.
        _buy(shop, store, refunded, ["케이크", "케이크"], days_ago=1, status="refunded")
        _buy(shop, store, refunded, ["케이크"], days_ago=4, status="refunded")
        _buy(shop, store, refunded, ["쿠키"], days_ago=5)
        card = _card(shop, a.product)
        stamp_add(shop=shop, card=card, customer=a.customer, stamps=3)
        stamp_add(shop=shop, card=card, customer=tie, stamps=1)
        segment = segment_create(
            shop=shop, name="모두", rule={"condition": "visits", "op": "gte", "value": 0}
        )
        template = template_create(
            shop=shop,
            name="단골 안내",
            channel="sms",
            kind="info",
            body="{name}님, {favourite_item}{을/를} 또 준비했어요. 도장 {stamps}개 {link}",
        )
        forecast = campaign_forecast(shop=shop, segment=segment, template=template, now=AFTERNOON)
        added = campaign_send(
            shop=shop, segment=segment, template=template, occurrence="f1", scheduled_for=AFTERNOON
        )
        bodies = {
            m.customer_id: m.body
            for m in OutboxMessage.objects.for_shop(shop).filter(source=f"segment:{segment.pk}")
        }
    assert {"favourite_item", "stamps", "link"} <= set(FILLED)
    assert forecast.checked == added == len(bodies) == 4

    def text(customer, rest):
        name, _, tail = bodies[customer.pk].partition(" http")
        assert name == f"{customer.name}님, {rest}"
        token = tail.rstrip("/").rsplit("/", 1)[-1]
        assert customer_page_read(token) == (shop.pk, customer.pk)
        assert bodies[customer.pk].count("/me/") == 1

    text(a.customer, "아메리카노를 또 준비했어요. 도장 3개")
    text(tie, "라떼를 또 준비했어요. 도장 1개")
    text(refunded, "쿠키를 또 준비했어요. 도장 0개")
    text(nothing, "을(를) 또 준비했어요. 도장 0개")  # no favourite: the empty value


@pytest.mark.django_db
def test_filling_values_takes_the_same_queries_for_5_or_50_members(two_shops):
    a = two_shops.a
    shop = a.shop
    with shop_scope(shop):
        card = _card(shop, a.product)
        people = [make_customer(shop, name=f"손님{i}") for i in range(50)]
        for i, person in enumerate(people):
            _buy(shop, a.store, person, ["라떼", "스콘"][: 1 + i % 2], days_ago=1 + i % 5)
            stamp_add(shop=shop, card=card, customer=person, stamps=1 + i % 3)
        counts = []
        for size in (5, 50):
            with CaptureQueriesContext(connection) as queries:
                values = template_values(shop=shop, customers=people[:size])
            counts.append(len(queries))
            assert len(values) == size
    assert counts[0] == counts[1] <= 3
    assert values[people[1].pk]["stamps"] == "2" and values[people[1].pk]["favourite_item"]
