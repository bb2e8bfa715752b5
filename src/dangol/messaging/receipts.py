"""What comes back from providers and customers: delivery reports, 080 opt-outs, unsubscribes.

Each is idempotent: a provider repeating a webhook, or a customer clicking twice, changes
nothing the second time. Opt-outs take effect at once: the consent ledger records the refusal
and the address is suppressed, so the gate blocks the next ad even before consent is re-read.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.db import transaction

from dangol.core.phone import normalize_phone
from dangol.customers.models import ConsentSource, Customer
from dangol.customers.selectors import customer_find_by_phone
from dangol.customers.services import ConsentInput, consent_record
from dangol.messaging.models import Channel, OutboxMessage, Status
from dangol.messaging.providers.base import DeliveryReport, OptOut, Outcome
from dangol.messaging.services import message_event, suppression_add
from dangol.shops.models import Shop

FINAL = (Status.DELIVERED, Status.FAILED, Status.BLOCKED, Status.SUPPRESSED)
CONSENT_FOR_CHANNEL = {
    Channel.SMS: "ad_sms",
    Channel.ALIMTALK: "ad_kakao",
    Channel.BRAND: "ad_kakao",
    Channel.EMAIL: "ad_email",
    Channel.PUSH: "ad_push",
}
_SALT = "dangol.unsubscribe"


@transaction.atomic
def delivery_reports_apply(*, shop: Shop, reports: Iterable[DeliveryReport]) -> int:
    """Mark messages delivered or failed; returns how many changed."""
    changed = 0
    outbox = OutboxMessage.objects.for_shop(shop)
    for report in reports:
        if report.outcome not in (Outcome.DELIVERED, Outcome.FAILED):
            continue
        message = None
        if report.provider_message_id:
            message = outbox.filter(provider_message_id=report.provider_message_id).first()
        if message is None and report.idempotency_key:
            message = outbox.filter(idempotency_key=report.idempotency_key).first()
        if message is None or message.status in FINAL:
            continue
        message.status = Status.DELIVERED if report.outcome == Outcome.DELIVERED else Status.FAILED
        message.save(update_fields=["status"])
        message_event(
            message=message, status=message.status, detail=f"{report.code} {report.detail}"
        )
        changed += 1
    return changed


def _refuse(*, shop: Shop, customer: Customer | None, address: str, channel: str, source: str):
    suppression_add(shop=shop, address=address, channel=channel, source=source)
    if customer is not None:
        consent_record(
            customer=customer,
            data=ConsentInput(kind=CONSENT_FOR_CHANNEL[channel], granted=False, source=source),
        )


@transaction.atomic
def optouts_apply(*, shop: Shop, optouts: Iterable[OptOut]) -> int:
    """080 opt-outs: suppress the number for SMS ads and record the refusal in the ledger."""
    count = 0
    for optout in optouts:
        try:
            phone = normalize_phone(optout.phone)
        except ValueError:
            continue
        customer = customer_find_by_phone(shop=shop, phone=phone)
        _refuse(
            shop=shop,
            customer=customer,
            address=phone,
            channel=Channel.SMS,
            source=ConsentSource.OPTOUT_080,
        )
        count += 1
    return count


def unsubscribe_token(*, shop_id: int, customer_id: int, channel: str) -> str:
    """A signed, unguessable token for the no-login unsubscribe link of one customer."""
    return signing.dumps([shop_id, customer_id, channel], salt=_SALT, compress=True)


def unsubscribe_url(*, shop_id: int, customer_id: int, channel: str) -> str:
    token = unsubscribe_token(shop_id=shop_id, customer_id=customer_id, channel=channel)
    return f"{settings.PUBLIC_URL}/u/{token}/"


def unsubscribe_read(token: str) -> tuple[int, int, str] | None:
    try:
        shop_id, customer_id, channel = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if channel not in CONSENT_FOR_CHANNEL:
        return None
    return int(shop_id), int(customer_id), channel


@transaction.atomic
def unsubscribe_apply(*, shop: Shop, customer: Customer, channel: str) -> None:
    """The customer refused ads on this channel: at once, for good, until they consent again."""
    address = customer.email if channel == Channel.EMAIL else customer.phone
    _refuse(
        shop=shop,
        customer=customer,
        address=address,
        channel=channel,
        source=ConsentSource.UNSUBSCRIBE,
    )
