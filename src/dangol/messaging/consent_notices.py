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
from dangol.messaging.models import Channel, Kind
from dangol.messaging.services import message_enqueue
from dangol.shops.models import Shop

AD_KINDS = {
    ConsentKind.AD_SMS: "문자",
    ConsentKind.AD_KAKAO: "카카오톡",
    ConsentKind.AD_EMAIL: "이메일",
    ConsentKind.AD_PUSH: "앱 푸시",
    ConsentKind.AD_NIGHT: "야간(21시~08시)",
}
RESULT_WINDOW = dt.timedelta(days=14)
# Queue the reconfirmation a month before the anniversary, so it arrives before it.
CONFIRM_LEAD = dt.timedelta(days=30)
TWO_YEARS = dt.timedelta(days=730)


def _date(value: dt.datetime) -> str:
    local = timezone.localtime(value)
    return f"{local.year}년 {local.month}월 {local.day}일"


def _result_text(shop: Shop, event: ConsentEvent) -> str:
    what = AD_KINDS[event.kind]
    result = "수신 동의" if event.granted else "수신 거부"
    return (
        f"[{shop.name}] {_date(event.occurred_at)}에 요청하신 {what} 광고 {result}가 "
        f"처리되었습니다. 문의: {shop.phone}"
    )


def _confirm_text(shop: Shop, event: ConsentEvent) -> str:
    what = AD_KINDS[event.kind]
    return (
        f"[{shop.name}] 고객님은 {_date(event.occurred_at)}에 {what} 광고 수신에 동의하셨습니다. "
        f"계속 받으시려면 아무것도 하지 않으셔도 되며, 원하지 않으시면 {shop.phone}로 "
        "알려 주시거나 매장에서 말씀해 주세요."
    )


def consent_notices_queue(*, shop: Shop, now: dt.datetime | None = None) -> tuple[int, int]:
    """Queue missing result notices and due reconfirmations; returns (results, confirmations)."""
    now = now or timezone.now()
    sender = (shop.sender_numbers or [""])[0]
    events = ConsentEvent.objects.for_shop(shop).filter(kind__in=list(AD_KINDS))
    results = 0
    for event in events.filter(occurred_at__gte=now - RESULT_WINDOW).select_related("customer"):
        _, created = message_enqueue(
            shop=shop,
            customer=event.customer,
            channel=Channel.SMS,
            kind=Kind.INFO,
            body=_result_text(shop, event),
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
            body=_confirm_text(shop, event),
            source="consent_confirm",
            step=event.kind,
            occurrence=f"{event.pk}:{anniversary}",
            sender=sender,
            scheduled_for=now,
        )
        confirmations += created
    return results, confirmations
