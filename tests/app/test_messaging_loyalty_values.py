"""Loyalty values in campaign messages: the caller (automations) reads them and passes them
in; the messaging layer only renders what it is given."""

from __future__ import annotations

import datetime as dt

import pytest

from dangol.automations.selectors import FILLED, campaign_forecast
from dangol.automations.services import campaign_send
from dangol.core.tenancy import shop_scope
from dangol.loyalty.points import points_adjust
from dangol.messaging.models import OutboxMessage
from dangol.messaging.services import template_create
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
