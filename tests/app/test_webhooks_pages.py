"""The owner's webhook page: subscribe (the secret shown once), the delivery log with the last
error, a test event, switching off; owners and managers only; another shop's ids are 404."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from dangol.core.tenancy import shop_scope
from dangol.integrations.capture import webhook_events_capture
from dangol.integrations.models import WebhookDelivery, WebhookSubscription
from dangol.integrations.services import webhook_subscription_create
from dangol.shops.services import membership_grant
from tests.app.factories import make_customer

HOOK = "https://hooks.example.com/dangol"


@pytest.fixture
def owner(client, two_shops):
    client.force_login(two_shops.a.owner)
    return client


def _no_inline(html: str) -> None:
    assert "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)


@pytest.mark.django_db
def test_subscribe_shows_the_secret_once_and_lists_it(owner, two_shops):
    page = owner.get(reverse("web:webhooks"))
    assert page.status_code == 200
    _no_inline(page.content.decode())
    response = owner.post(
        reverse("web:webhooks"),
        {
            "url": HOOK,
            "event_types": ["purchase.created", "coupon.redeemed"],
            "description": "홈페이지",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    _no_inline(html)
    secret = re.search(r"data-secret>(whsec_[^<]+)<", html).group(1)
    with shop_scope(two_shops.a.shop):
        sub = WebhookSubscription.objects.get()
    assert sub.secret == secret and sub.event_types == ["purchase.created", "coupon.redeemed"]
    # Stored encrypted, and never shown again.
    table = WebhookSubscription._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {table} WHERE id = %s", [sub.pk])  # noqa: S608
        (raw,) = cursor.fetchone()
    assert raw.startswith("v1:") and secret not in raw
    again = owner.get(reverse("web:webhooks")).content.decode()
    assert secret not in again and HOOK in again
    assert secret not in owner.get(reverse("web:webhook", args=[sub.pk])).content.decode()


@pytest.mark.django_db
def test_bad_urls_and_no_events_are_refused_with_a_reason(owner, two_shops, settings):
    settings.DANGOL_WEBHOOKS_ALLOW_LOCAL_HTTP = False
    for data in (
        {"url": "http://hooks.example.com/x", "event_types": ["purchase.created"]},
        {"url": "https://192.168.0.10/x", "event_types": ["purchase.created"]},
        {"url": HOOK},
    ):
        response = owner.post(reverse("web:webhooks"), data)
        assert response.status_code == 400
        assert 'class="error"' in response.content.decode()
    with shop_scope(two_shops.a.shop):
        assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_log_test_event_and_switch_off(owner, two_shops):
    shop = two_shops.a.shop
    with shop_scope(shop):
        sub = webhook_subscription_create(
            shop=shop, url=HOOK, event_types=["customer.created"]
        ).subscription
        make_customer(shop)
        webhook_events_capture(shop=shop)
        WebhookDelivery.objects.for_shop(shop).update(
            last_status=503, last_error="HTTP 503", attempts=1
        )
    detail = owner.get(reverse("web:webhook", args=[sub.pk]))
    html = detail.content.decode()
    assert detail.status_code == 200 and "customer.created" in html and "HTTP 503" in html
    _no_inline(html)
    assert "HTTP 503" in owner.get(reverse("web:webhooks")).content.decode()
    response = owner.post(reverse("web:webhook_test", args=[sub.pk]))
    assert response.status_code == 302
    with shop_scope(shop):
        assert WebhookDelivery.objects.filter(event_type="webhook.test").count() == 1
    assert owner.post(reverse("web:webhook_deactivate", args=[sub.pk])).status_code == 302
    sub.refresh_from_db()
    assert not sub.active and sub.deactivated_at
    owner.post(reverse("web:webhook_test", args=[sub.pk]))
    with shop_scope(shop):
        assert WebhookDelivery.objects.filter(event_type="webhook.test").count() == 1


@pytest.mark.django_db
def test_staff_are_refused_and_managers_allowed(client, two_shops):
    shop = two_shops.a.shop
    users = get_user_model().objects
    staff = users.create_user(username="staff-wh", password="pw-staff-123")
    manager = users.create_user(username="manager-wh", password="pw-manager-123")
    membership_grant(shop=shop, user=staff, role="staff")
    membership_grant(shop=shop, user=manager, role="manager")
    with shop_scope(shop):
        sub = webhook_subscription_create(
            shop=shop, url=HOOK, event_types=["customer.created"]
        ).subscription
    client.force_login(staff)
    assert client.get(reverse("web:webhooks")).status_code == 403
    assert client.get(reverse("web:webhook", args=[sub.pk])).status_code == 403
    assert client.post(reverse("web:webhook_deactivate", args=[sub.pk])).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("web:webhooks")).status_code == 200


@pytest.mark.django_db
def test_another_shops_subscription_is_404(client, two_shops):
    with shop_scope(two_shops.a.shop):
        theirs = webhook_subscription_create(
            shop=two_shops.a.shop, url=HOOK, event_types=["customer.created"]
        ).subscription
    client.force_login(two_shops.b.owner)
    assert client.get(reverse("web:webhook", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("web:webhook_test", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("web:webhook_deactivate", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.active
    assert HOOK not in client.get(reverse("web:webhooks")).content.decode()
