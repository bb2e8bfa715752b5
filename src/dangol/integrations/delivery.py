"""Sending deliveries: claim the due ones, POST each signed, record the answer — at least once,
never twice at the same time.

1. A round claims up to ``limit`` due deliveries (queued, ``next_attempt_at`` passed, no live
   lease, subscription active) by one conditional UPDATE that sets this worker's token and a
   lease. On PostgreSQL the candidate rows are locked with ``SKIP LOCKED`` first, so two
   workers take different rows; SQLite has one writer (IMMEDIATE transactions).
2. The claim is committed before any request. A worker that dies leaves the lease to run
   out; the delivery is then claimed again. Receivers de-duplicate by ``Dangol-Delivery``.
3. Each answer is written with the attempt log row in one transaction, only while this worker
   still holds the claim.

Retries: 5xx, 408, 429, timeouts and connection errors, after 1 min, 5 min, 30 min, 2 h and
12 h (±10 % jitter; a ``Retry-After`` of a 408/429/503 is respected), then ``gave_up``. Any
other 4xx (and 3xx) is ``failed`` at once.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import random
import uuid
from dataclasses import dataclass

from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from dangol.integrations.client import Answer, WebhookClient
from dangol.integrations.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
)
from dangol.integrations.signing import signature_header
from dangol.shops.models import Shop

LEASE = dt.timedelta(minutes=5)
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
)
MAX_RETRY_AFTER = dt.timedelta(hours=12)
JITTER = 0.1


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    gave_up: int = 0


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body: the same bytes on every attempt of a delivery."""
    envelope = {
        "id": delivery.pk,
        "type": delivery.event_type,
        "event_id": delivery.event_id,
        "created_at": delivery.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def delivery_headers(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    return {
        "Dangol-Event": delivery.event_type,
        "Dangol-Delivery": str(delivery.pk),
        "Dangol-Signature": signature_header(secret=delivery.subscription.secret, body=body),
    }


def _retry_after(value: str, now: dt.datetime) -> dt.timedelta | None:
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        wait = dt.timedelta(seconds=int(value))
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        wait = when - now
    return min(max(wait, dt.timedelta(0)), MAX_RETRY_AFTER)


def _backoff(attempts: int) -> dt.timedelta:
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 (spreading, not secrecy)


def _decide(answer: Answer, attempts: int, now: dt.datetime) -> tuple[str, dt.datetime | None, str]:
    """(status, next attempt, outcome) after ``attempts`` attempts ending in ``answer``."""
    status = answer.status
    if status is not None and 200 <= status < 300:
        return DeliveryStatus.DELIVERED, None, "delivered"
    retryable = status is None or status >= 500 or status in (408, 429)
    if not retryable:
        return DeliveryStatus.FAILED, None, "failed"
    if attempts > len(RETRY_DELAYS):
        return DeliveryStatus.GAVE_UP, None, "gave_up"
    wait = _backoff(attempts)
    if status in (408, 429, 503):
        wait = _retry_after(answer.retry_after, now) or wait
    return DeliveryStatus.QUEUED, now + wait, "retry"


def _due(now: dt.datetime, shop: Shop | None):
    due = WebhookDelivery.unscoped.filter(
        status=DeliveryStatus.QUEUED, next_attempt_at__lte=now, subscription__active=True
    ).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    return due.filter(shop=shop) if shop is not None else due


def _claim(now: dt.datetime, limit: int, shop: Shop | None, lease: dt.timedelta) -> list:
    token = uuid.uuid4().hex
    with transaction.atomic():
        connection = connections[router.db_for_write(WebhookDelivery)]
        candidates = _due(now, shop).order_by("next_attempt_at", "pk")
        if connection.vendor == "postgresql":
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        # The same conditions again: on SQLite this UPDATE is the claim itself.
        _due(now, shop).filter(pk__in=ids).update(
            claimed_by=token, lease_until=now + lease, updated_at=now
        )
    return list(
        WebhookDelivery.unscoped.filter(claimed_by=token, status=DeliveryStatus.QUEUED)
        .select_related("subscription")
        .order_by("next_attempt_at", "pk")
    )


@transaction.atomic
def _record(delivery: WebhookDelivery, answer: Answer, now: dt.datetime) -> str | None:
    number = delivery.attempts + 1
    status, next_at, outcome = _decide(answer, number, now)
    error = answer.error or ("" if outcome == "delivered" else f"HTTP {answer.status}")
    changes = {
        "status": status,
        "attempts": F("attempts") + 1,
        "last_status": answer.status,
        "last_error": error[:300],
        "claimed_by": "",
        "lease_until": None,
        "updated_at": now,
    }
    if next_at is not None:
        changes["next_attempt_at"] = next_at
    if status == DeliveryStatus.DELIVERED:
        changes["delivered_at"] = now
    held = WebhookDelivery.unscoped.filter(
        pk=delivery.pk, claimed_by=delivery.claimed_by, status=DeliveryStatus.QUEUED
    ).update(**changes)
    if not held:
        return None  # the lease ran out and another worker took it over; its answer counts
    WebhookAttempt.unscoped.create(
        shop_id=delivery.shop_id,
        delivery=delivery,
        number=number,
        at=now,
        http_status=answer.status,
        error=error[:300],
        duration_ms=answer.duration_ms,
        outcome=outcome,
    )
    return outcome


def webhook_deliveries_send(
    *,
    now: dt.datetime | None = None,
    limit: int = 20,
    rounds: int = 10,
    shop: Shop | None = None,
    client: WebhookClient | None = None,
    lease: dt.timedelta = LEASE,
) -> DeliveryReport:
    """Up to ``rounds`` claims of ``limit`` deliveries each (small claims keep every claimed
    delivery well inside its lease even when receivers time out)."""
    client = client or WebhookClient()
    report = DeliveryReport()
    for _ in range(rounds):
        current = now or timezone.now()
        claimed = _claim(current, limit, shop, lease)
        report.claimed += len(claimed)
        for delivery in claimed:
            body = delivery_body(delivery)
            answer = client.post(
                url=delivery.subscription.url, body=body, headers=delivery_headers(delivery, body)
            )
            outcome = _record(delivery, answer, now or timezone.now())
            if outcome == "delivered":
                report.delivered += 1
            elif outcome == "retry":
                report.retried += 1
            elif outcome == "failed":
                report.failed += 1
            elif outcome == "gave_up":
                report.gave_up += 1
        if len(claimed) < limit:
            break
    return report
