"""Notices the law requires after consent changes (checklist rules 9 and 10).

- Rule 9: after any ad consent, refusal or withdrawal, a non-promotional notice of the result
  within 14 days (we queue it at once): sender, what changed, when it was asked, the result.
- Rule 10: before each 2-year anniversary of an active ad consent, a notice of the consent and
  how to keep or withdraw it. No reply keeps the consent; a fresh consent moves the anniversary.

Both are queued as information messages with idempotency keys tied to the consent event, so
running this every hour queues each notice exactly once.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dangol.customers.models import ConsentEvent, ConsentKind
from dangol.messaging import policy
from dangol.messaging.models import Channel, Kind
from dangol.messaging.recipients import shop_identity
from dangol.messaging.services import message_enqueue
from dangol.shops.models import Shop

# Ad consent kinds and the channel family the law's notice names.
AD_KINDS = {
    ConsentKind.AD_SMS: "sms",
    ConsentKind.AD_KAKAO: "kakao",
    ConsentKind.AD_EMAIL: "email",
    ConsentKind.AD_PUSH: "push",
}
RESULT_WINDOW = dt.timedelta(days=14)
# Queue the reconfirmation a month before the anniversary, so it arrives before it.
CONFIRM_LEAD = dt.timedelta(days=30)
TWO_YEARS = dt.timedelta(days=730)


def _change(event: ConsentEvent) -> str:
    if event.granted:
        return "consent"
    earlier = ConsentEvent.objects.for_shop(event.shop_id).filter(
        customer_id=event.customer_id,
        kind=event.kind,
        granted=True,
        occurred_at__lt=event.occurred_at,
    )
    return "withdrawal" if earlier.exists() else "refusal"


def consent_notices_queue(*, shop: Shop, now: dt.datetime | None = None) -> tuple[int, int]:
    """Queue missing result notices and due reconfirmations; returns (results, confirmations)."""
    now = now or timezone.now()
    sender = (shop.sender_numbers or [""])[0]
    identity = shop_identity(shop)
    events = ConsentEvent.objects.for_shop(shop).filter(kind__in=list(AD_KINDS))
    results = 0
    for event in events.filter(occurred_at__gte=now - RESULT_WINDOW).select_related("customer"):
        _, created = message_enqueue(
            shop=shop,
            customer=event.customer,
            channel=Channel.SMS,
            kind=Kind.INFO,
            body=policy.result_notice_text(
                identity,
                change=_change(event),
                family=AD_KINDS[event.kind],
                requested_at=event.occurred_at,
            ),
            source="consent_result",
            step=event.kind,
            occurrence=str(event.pk),
            sender=sender,
            scheduled_for=now,
        )
        results += created
    # The anchor is the latest event per customer and kind, if it is a grant.
    latest: dict[tuple[int, str], ConsentEvent] = {}
    for event in events.order_by("occurred_at", "pk").select_related("customer"):
        latest[(event.customer_id, event.kind)] = event
    confirmations = 0
    for event in latest.values():
        # Which anniversary comes next (1 = the second birthday of the consent, ...), counted
        # from a month ahead; one notice per anniversary.
        anniversary = int((now - event.occurred_at + CONFIRM_LEAD) / TWO_YEARS)
        if not event.granted or anniversary < 1:
            continue
        _, created = message_enqueue(
            shop=shop,
            customer=event.customer,
            channel=Channel.SMS,
            kind=Kind.INFO,
            body=policy.confirmation_notice_text(
                identity,
                family=AD_KINDS[event.kind],
                consent_on=timezone.localtime(event.occurred_at).date(),
            ),
            source="consent_confirm",
            step=event.kind,
            occurrence=f"{event.pk}:{anniversary}",
            sender=sender,
            scheduled_for=now,
        )
        confirmations += created
    return results, confirmations
