"""What comes back: verified provider webhooks (delivery reports, 080 opt-outs) and the
customer's no-login unsubscribe link — idempotent, effective at once, shop by shop."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from dangol.core.tenancy import shop_scope
from dangol.customers.selectors import consent_current
from dangol.messaging.dispatch import outbox_dispatch
from dangol.messaging.models import OutboxMessage, Status, Suppression
from dangol.messaging.receipts import unsubscribe_token
from dangol.messaging.services import message_enqueue
from dangol.shops.models import Shop

SIGNATURE = "hook-signature"


@pytest.fixture
def nhn_env(monkeypatch):
    monkeypatch.setenv("DANGOL_NHN_SMS_APP_KEY", "app-key")
    monkeypatch.setenv("DANGOL_NHN_SMS_SECRET_KEY", "secret")
    monkeypatch.setenv("DANGOL_NHN_WEBHOOK_SIGNATURE", SIGNATURE)


def _hook(client, slug, body, signature=SIGNATURE):
    return client.post(
        f"/hooks/nhn-sms/{slug}/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_TOAST_WEBHOOK_SIGNATURE=signature,
    )


def _consented(customer, kind):
    return {c.kind: c.granted for c in consent_current(customer=customer)}[kind]


@pytest.mark.django_db
def test_080_optout_webhook_suppresses_at_once(client, two_shops, nhn_env):
    a, b = two_shops.a, two_shops.b
    body = {
        "hooksId": "h1",
        "webhookConfigId": "w1",
        "productName": "SMS",
        "appKey": "app-key",
        "event": "UNSUBSCRIBE",
        "hooks": [
            {
                "recipientNo": "01011112222",
                "unsubscribeNo": "0801234567",
                "createdDateTime": "2026-11-20T10:00:00.000+09:00",
            }
        ],
    }
    assert _hook(client, "alpha", body, signature="wrong").status_code == 400
    assert _hook(client, "alpha", {"garbage": True}).status_code == 400
    with shop_scope(a.shop):
        assert not Suppression.objects.for_shop(a.shop).exists()
    for _ in range(2):  # a repeated webhook changes nothing more
        response = _hook(client, "alpha", body)
        assert response.status_code == 200
    with shop_scope(a.shop):
        assert Suppression.objects.for_shop(a.shop).count() == 1
        assert _consented(a.customer, "ad_sms") is False
    with shop_scope(b.shop):  # the same number at another shop is untouched
        assert not Suppression.objects.for_shop(b.shop).exists()
    assert _hook(client, "no-such-shop", body).status_code == 404


@pytest.mark.django_db
def test_delivery_reports_mark_messages_once(client, two_shops, nhn_env):
    from dangol.messaging.providers.console import ConsoleProvider

    a = two_shops.a
    Shop.objects.filter(pk=a.shop.pk).update(sender_numbers=["02-555-0101"])
    a.shop.refresh_from_db()
    now = dt.datetime(2026, 11, 20, 5, tzinfo=dt.UTC)

    class Accepting(ConsoleProvider):
        def send(self, message):
            from dangol.messaging.providers.base import Outcome, SendResult

            return SendResult(Outcome.ACCEPTED, provider_message_id="req-1:1")

    with shop_scope(a.shop):
        message, _ = message_enqueue(
            shop=a.shop,
            customer=a.customer,
            channel="sms",
            kind="info",
            body="준비됐어요",
            source="t",
            occurrence="1",
            sender="02-555-0101",
            scheduled_for=now,
        )
        outbox_dispatch(providers={"sms": Accepting()}, now=now)
        message.refresh_from_db()
        assert message.status == Status.SENT
    body = {
        "hooksId": "h2",
        "appKey": "app-key",
        "event": "MESSAGE_RESULT_UPDATE",
        "hooks": [
            {
                "requestId": "req-1",
                "recipientSeq": 1,
                "messageStatus": "COMPLETED",
                "resultCode": "1000",
                "recipientGroupingKey": message.idempotency_key,
            }
        ],
    }
    assert _hook(client, "alpha", body).json() == {"reports": 1, "optouts": 0}
    assert _hook(client, "alpha", body).json() == {"reports": 0, "optouts": 0}
    with shop_scope(a.shop):
        assert OutboxMessage.objects.for_shop(a.shop).get().status == Status.DELIVERED


@pytest.mark.django_db
def test_unsubscribe_link_needs_no_login_and_works_once(client, two_shops):
    a = two_shops.a
    token = unsubscribe_token(shop_id=a.shop.pk, customer_id=a.customer.pk, channel="email")
    url = reverse("web:unsubscribe", args=[token])
    page = client.get(url)
    assert page.status_code == 200 and "수신" in page.content.decode()
    with shop_scope(a.shop):
        assert not Suppression.objects.for_shop(a.shop).exists()  # GET changes nothing
    for _ in range(2):
        done = client.post(url, {"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and 'data-state="done"' in done.content.decode()
    with shop_scope(a.shop):
        assert Suppression.objects.for_shop(a.shop).filter(channel="email").count() == 1
        assert _consented(a.customer, "ad_email") is False
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(reverse("web:unsubscribe", args=[tampered])).status_code == 404
    assert client.get(reverse("web:unsubscribe", args=["x" * 500])).status_code == 404
