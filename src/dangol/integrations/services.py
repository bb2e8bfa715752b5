"""Writes of outgoing webhooks that owners make: subscribe, switch off, queue a test event.

Change capture is in ``capture.py``, sending in ``delivery.py``, signatures in ``signing.py``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dangol.integrations.capture import webhook_cursors_start
from dangol.integrations.models import (
    TEST_EVENT,
    EventType,
    WebhookDelivery,
    WebhookSubscription,
)
from dangol.integrations.signing import secret_new
from dangol.shops.models import Shop

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class WebhookError(ValueError):
    """A refusal with a stable code and the message in Korean and English."""

    def __init__(self, code: str, ko: str, en: str) -> None:
        super().__init__(en)
        self.code, self.ko, self.en = code, ko, en


def _allow_local_http() -> bool:
    """Plain http to this machine is for tests and development only."""
    return bool(getattr(settings, "DANGOL_WEBHOOKS_ALLOW_LOCAL_HTTP", settings.DEBUG))


def webhook_url_check(*, url: str) -> str:
    """The URL as it will be used, or ``WebhookError``: https to a public host; http only to
    this machine when local http is allowed (development, tests)."""
    url = (url or "").strip()
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("http", "https") or parts.username or parts.password:
        raise WebhookError(
            "bad_url", "https:// 로 시작하는 주소를 넣어 주세요.", "Enter an https:// address."
        )
    local = host in LOCAL_HOSTS or host.endswith(".localhost")
    if local and _allow_local_http():
        return url
    if parts.scheme != "https":
        raise WebhookError(
            "https_required",
            "보안을 위해 https 주소만 쓸 수 있습니다.",
            "Only https addresses can be used.",
        )
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if local or (address is not None and not address.is_global):
        raise WebhookError(
            "private_address",
            "내부망이나 이 서버의 주소로는 보낼 수 없습니다.",
            "Webhooks cannot go to a private or local address.",
        )
    return url


def _event_types(values: Iterable[str]) -> list[str]:
    chosen = [v for v in EventType.values if v in set(values)]
    unknown = set(values) - set(EventType.values)
    if unknown or not chosen:
        raise WebhookError(
            "bad_events",
            "보낼 이벤트를 하나 이상 고르세요.",
            "Choose at least one event to send.",
        )
    return chosen


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: WebhookSubscription
    secret: str  # the only time it is given out in clear


@transaction.atomic
def webhook_subscription_create(
    *,
    shop: Shop,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    user: Any = None,
    now: dt.datetime | None = None,
) -> CreatedSubscription:
    now = now or timezone.now()
    secret = secret_new()
    subscription = WebhookSubscription.objects.for_shop(shop).create(
        shop=shop,
        url=webhook_url_check(url=url),
        event_types=_event_types(list(event_types)),
        secret=secret,
        description=(description or "").strip()[:80],
        created_by=user if getattr(user, "is_authenticated", False) else None,
        created_at=now,
    )
    webhook_cursors_start(subscription=subscription, now=now)
    return CreatedSubscription(subscription=subscription, secret=secret)


@transaction.atomic
def webhook_subscription_deactivate(
    *, shop: Shop, subscription: WebhookSubscription, now: dt.datetime | None = None
) -> WebhookSubscription:
    """Stops capture and sending for it; queued deliveries stay in the log, unsent."""
    if subscription.shop_id != shop.pk:
        raise WebhookSubscription.DoesNotExist
    if subscription.active:
        subscription.active = False
        subscription.deactivated_at = now or timezone.now()
        subscription.save(update_fields=["active", "deactivated_at"])
    return subscription


@transaction.atomic
def webhook_test_queue(
    *, shop: Shop, subscription: WebhookSubscription, now: dt.datetime | None = None
) -> WebhookDelivery:
    """A ``webhook.test`` delivery, sent by the next delivery round like any other event."""
    if subscription.shop_id != shop.pk:
        raise WebhookSubscription.DoesNotExist
    if not subscription.active:
        raise WebhookError(
            "inactive", "꺼진 웹훅에는 보낼 수 없습니다.", "This webhook is switched off."
        )
    now = now or timezone.now()
    return WebhookDelivery.objects.for_shop(shop).create(
        shop=shop,
        subscription=subscription,
        event_type=TEST_EVENT,
        event_id=time.time_ns() // 1000,
        payload={"test": True, "sent_at": now.astimezone(dt.UTC).isoformat()},
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
