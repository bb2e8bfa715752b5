"""Rules 9 and 10: a result notice after every ad consent change, a reconfirmation before each
two-year anniversary — queued once each, as information, however often the job runs."""

from __future__ import annotations

import datetime as dt

import pytest

from dangol.core.tenancy import shop_scope
from dangol.customers.services import ConsentInput, consent_record
from dangol.messaging.consent_notices import consent_notices_queue
from dangol.messaging.models import OutboxMessage

NOW = dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)


def _event(customer, kind, granted, at):
    consent_record(
        customer=customer,
        data=ConsentInput(kind=kind, granted=granted, source="staff", occurred_at=at),
    )


@pytest.mark.django_db
def test_result_notices_and_reconfirmations_are_queued_once(two_shops):
    a = two_shops.a
    with shop_scope(a.shop):
        _event(a.customer, "ad_sms", True, NOW - dt.timedelta(days=2))
        _event(a.customer, "ad_email", False, NOW - dt.timedelta(days=20))  # too old for rule 9
        _event(a.customer, "pipa_collection", True, NOW - dt.timedelta(days=1))  # not an ad
        _event(a.customer, "ad_kakao", True, NOW - dt.timedelta(days=730 - 10))  # due soon
        assert consent_notices_queue(shop=a.shop, now=NOW) == (1, 1)
        assert consent_notices_queue(shop=a.shop, now=NOW) == (0, 0)
        # After the anniversary has passed, still no second notice for the same one.
        assert consent_notices_queue(shop=a.shop, now=NOW + dt.timedelta(days=40)) == (0, 0)
        # Two years on: KakaoTalk's next anniversary, and the SMS consent's first one.
        assert consent_notices_queue(shop=a.shop, now=NOW + dt.timedelta(days=730)) == (0, 2)
        notices = list(OutboxMessage.objects.for_shop(a.shop).order_by("pk"))
    result, confirmation = notices[0], notices[1]
    assert result.kind == "info" and "광고성 정보 수신동의 처리 결과 안내" in result.body
    assert "alpha 카페" in result.body
    assert (
        confirmation.kind == "info"
        and "카카오톡 광고성 정보 수신에 동의하셨습니다" in confirmation.body
    )


@pytest.mark.django_db
def test_a_withdrawal_ends_the_reconfirmations(two_shops):
    a = two_shops.a
    with shop_scope(a.shop):
        _event(a.customer, "ad_sms", True, NOW - dt.timedelta(days=800))
        _event(a.customer, "ad_sms", False, NOW - dt.timedelta(days=100))
        assert consent_notices_queue(shop=a.shop, now=NOW) == (0, 0)
