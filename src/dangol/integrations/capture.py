"""Change capture: what is new since each subscription's cursor becomes delivery rows.

No signals. A periodic task per shop reads, per active subscription and event type, the source
rows after the cursor — one set-based query per batch — and writes one delivery per
(subscription, event) with ``bulk_create(ignore_conflicts=True)`` on the unique key, moving the
cursor in the same transaction. Running it twice, or after a crash between the two, captures
nothing twice.

Sources and their cursors:

- ``customer.created``: customers by id (``created_at`` can be a past date kept by an import,
  so a time cursor would skip imported customers);
- ``purchase.created``: purchases by id;
- ``segment.entered``: segment stays by id (a new stay is a new row);
- ``coupon.redeemed``: redeemed coupons by (``redeemed_at``, id) — a redemption is an update;
- ``message.sent``: the outbox's status history by id, first "sent" or "delivered" per message
  (the event id is the message's, so a later "delivered" is the same event).

On PostgreSQL a transaction can commit a lower id (or an earlier time) after a higher one was
read. Each pass therefore also re-reads a short stretch below the cursor (``OVERLAP_IDS`` ids,
``OVERLAP_TIME``) for rows without a delivery yet; never below where the subscription started.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from dangol.core.phone import mask_phone
from dangol.customers.models import Customer
from dangol.integrations.models import (
    EventType,
    WebhookCursor,
    WebhookDelivery,
    WebhookSubscription,
)
from dangol.loyalty.models import Coupon, CouponStatus
from dangol.messaging.models import OutboxEvent
from dangol.messaging.models import Status as MessageStatus
from dangol.sales.models import Purchase
from dangol.segments.models import SegmentMembership
from dangol.shops.models import Shop

BATCH = 1000
MAX_BATCHES = 20  # per subscription and event type per pass; the rest waits for the next
OVERLAP_IDS = 500
OVERLAP_TIME = dt.timedelta(minutes=10)


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


@dataclass(frozen=True)
class Source:
    event_type: str
    rows: Callable[[Shop], QuerySet]
    payload: Callable[[Any], dict]
    time_field: str | None = None  # set: a (time, id) cursor; None: an id cursor
    event_key: str = "pk"  # the field that is the event id (message.sent: the message)


def _customers(shop: Shop) -> QuerySet:
    return Customer.objects.for_shop(shop)


def _customer_payload(c: Customer) -> dict:
    return {
        "customer_id": c.pk,
        "created_at": _iso(c.created_at),
        "created_via": c.created_via,
        "phone_masked": mask_phone(c.phone) if c.phone else "",
        "home_store_id": c.home_store_id,
    }


def _purchases(shop: Shop) -> QuerySet:
    return Purchase.objects.for_shop(shop)


def _purchase_payload(p: Purchase) -> dict:
    return {
        "purchase_id": p.pk,
        "customer_id": p.customer_id,
        "store_id": p.store_id,
        "source": p.source,
        "external_id": p.external_id,
        "occurred_at": _iso(p.occurred_at),
        "total": p.total,
        "discount": p.discount,
        "status": p.status,
    }


def _stays(shop: Shop) -> QuerySet:
    return SegmentMembership.objects.for_shop(shop).select_related("segment")


def _stay_payload(m: SegmentMembership) -> dict:
    return {
        "membership_id": m.pk,
        "customer_id": m.customer_id,
        "segment_id": m.segment_id,
        "segment_key": m.segment.builtin_key or f"segment-{m.segment_id}",
        "entered_at": _iso(m.entered_at),
    }


def _redemptions(shop: Shop) -> QuerySet:
    return Coupon.objects.for_shop(shop).filter(
        status=CouponStatus.REDEEMED, redeemed_at__isnull=False
    )


def _redemption_payload(c: Coupon) -> dict:
    return {
        "coupon_id": c.pk,
        "customer_id": c.customer_id,
        "template_id": c.template_id,
        "redeemed_at": _iso(c.redeemed_at),
        "store_id": c.redeemed_store_id,
        "purchase_id": c.redeemed_purchase_id,
        "basket": c.redeemed_amount,
        "face_value": c.face_value,
    }


def _sends(shop: Shop) -> QuerySet:
    return (
        OutboxEvent.objects.for_shop(shop)
        .filter(status__in=(MessageStatus.SENT, MessageStatus.DELIVERED))
        .select_related("message")
    )


def _send_payload(e: OutboxEvent) -> dict:
    m = e.message
    return {
        "message_id": m.pk,
        "customer_id": m.customer_id,
        "channel": m.channel,
        "kind": m.kind,
        "source": m.source,
        "status": e.status,
        "sent_at": _iso(m.sent_at or e.at),
    }


SOURCES: dict[str, Source] = {
    EventType.CUSTOMER_CREATED: Source(EventType.CUSTOMER_CREATED, _customers, _customer_payload),
    EventType.PURCHASE_CREATED: Source(EventType.PURCHASE_CREATED, _purchases, _purchase_payload),
    EventType.SEGMENT_ENTERED: Source(EventType.SEGMENT_ENTERED, _stays, _stay_payload),
    EventType.COUPON_REDEEMED: Source(
        EventType.COUPON_REDEEMED, _redemptions, _redemption_payload, time_field="redeemed_at"
    ),
    EventType.MESSAGE_SENT: Source(
        EventType.MESSAGE_SENT, _sends, _send_payload, event_key="message_id"
    ),
}


def webhook_cursors_start(
    *, subscription: WebhookSubscription, now: dt.datetime | None = None
) -> None:
    """Cursors at "now" for each event type of the subscription: history is never sent."""
    now = now or timezone.now()
    shop = subscription.shop
    for event_type in subscription.event_types:
        source = SOURCES[event_type]
        if source.time_field:
            rows = source.rows(shop).filter(**{f"{source.time_field}__lte": now})
            at, last = now, rows.aggregate(m=Max("pk"))["m"] or 0
        else:
            at, last = None, source.rows(shop).aggregate(m=Max("pk"))["m"] or 0
        WebhookCursor.objects.for_shop(shop).get_or_create(
            shop=shop,
            subscription=subscription,
            event_type=event_type,
            defaults={
                "last_at": at,
                "last_id": last,
                "floor_at": at,
                "floor_id": last,
                "updated_at": now,
            },
        )


def _undelivered(source: Source, subscription: WebhookSubscription) -> Exists:
    return Exists(
        WebhookDelivery.unscoped.filter(
            shop_id=subscription.shop_id,
            subscription_id=subscription.pk,
            event_type=source.event_type,
            event_id=OuterRef(source.event_key),
        )
    )


def _late_rows(source: Source, cursor: WebhookCursor) -> QuerySet:
    """Rows just below the cursor that have no delivery yet (committed late)."""
    rows = source.rows(cursor.subscription.shop)
    if source.time_field:
        since = max(cursor.last_at - OVERLAP_TIME, cursor.floor_at)
        after_floor = Q(**{f"{source.time_field}__gt": cursor.floor_at}) | Q(
            **{source.time_field: cursor.floor_at, "pk__gt": cursor.floor_id}
        )
        rows = rows.filter(after_floor).filter(
            Q(**{f"{source.time_field}__gte": since}) & ~_after(source, cursor)
        )
    else:
        rows = rows.filter(
            pk__gt=max(cursor.last_id - OVERLAP_IDS, cursor.floor_id), pk__lte=cursor.last_id
        )
    return rows.filter(~_undelivered(source, cursor.subscription)).order_by("pk")[:BATCH]


def _after(source: Source, cursor: WebhookCursor) -> Q:
    if source.time_field:
        field = source.time_field
        return Q(**{f"{field}__gt": cursor.last_at}) | Q(
            **{field: cursor.last_at, "pk__gt": cursor.last_id}
        )
    return Q(pk__gt=cursor.last_id)


def _new_rows(source: Source, cursor: WebhookCursor) -> list[Any]:
    rows = source.rows(cursor.subscription.shop).filter(_after(source, cursor))
    order = (source.time_field, "pk") if source.time_field else ("pk",)
    return list(rows.order_by(*order)[:BATCH])


def _deliveries(
    source: Source, subscription: WebhookSubscription, rows: Iterable[Any], now: dt.datetime
) -> list[WebhookDelivery]:
    seen: set[int] = set()
    out = []
    for row in rows:
        event_id = getattr(row, source.event_key)
        if event_id in seen:
            continue
        seen.add(event_id)
        out.append(
            WebhookDelivery(
                shop_id=subscription.shop_id,
                subscription=subscription,
                event_type=source.event_type,
                event_id=event_id,
                payload=source.payload(row),
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return out


@transaction.atomic
def _capture_batch(cursor: WebhookCursor, now: dt.datetime) -> int:
    source = SOURCES[cursor.event_type]
    subscription = cursor.subscription
    late = list(_late_rows(source, cursor))
    rows = _new_rows(source, cursor)
    WebhookDelivery.objects.for_shop(subscription.shop).bulk_create(
        _deliveries(source, subscription, [*late, *rows], now), ignore_conflicts=True
    )
    if rows:
        last = rows[-1]
        cursor.last_id = last.pk
        if source.time_field:
            cursor.last_at = getattr(last, source.time_field)
        cursor.updated_at = now
        cursor.save(update_fields=["last_id", "last_at", "updated_at"])
    return len(rows)


def webhook_events_capture(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """One pass for a shop: deliveries for every new event of its active subscriptions.
    Returns the number of source rows read past the cursors."""
    now = now or timezone.now()
    subscriptions = list(WebhookSubscription.objects.for_shop(shop).filter(active=True))
    read = 0
    for subscription in subscriptions:
        subscription.shop = shop
        webhook_cursors_start(subscription=subscription, now=now)  # event types added later
        cursors = WebhookCursor.objects.for_shop(shop).filter(
            subscription=subscription, event_type__in=subscription.event_types
        )
        for cursor in cursors:
            cursor.subscription = subscription
            for _ in range(MAX_BATCHES):
                n = _capture_batch(cursor, now)
                read += n
                if n < BATCH:
                    break
    return read
