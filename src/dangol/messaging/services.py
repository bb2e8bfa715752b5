"""Writes for messaging: templates, putting messages in the outbox, suppressions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dangol.core.crypto import blind_index
from dangol.customers.models import Customer
from dangol.messaging.models import (
    Channel,
    Kind,
    MessageTemplate,
    OutboxEvent,
    OutboxMessage,
    Status,
    Suppression,
)
from dangol.messaging.templates import check_template, render
from dangol.shops.models import Shop


class MessagingError(ValueError):
    def __init__(self, ko: str, en: str, *, field: str = ""):
        self.ko, self.en, self.field = ko, en, field
        super().__init__(f"{ko} / {en}")


def idempotency_key(
    *, source: str, step: str, customer_id: int, channel: str, occurrence: str
) -> str:
    """(source, step, customer, channel, occurrence): the same send can never be queued twice."""
    return f"{source}|{step}|{customer_id}|{channel}|{occurrence}"[:200]


def template_create(
    *, shop: Shop, name: str, channel: str, kind: str, body: str, subject: str = ""
) -> MessageTemplate:
    """Save a template; ``TemplateError`` gives each bad variable or brace with its position."""
    if channel not in Channel.values:
        raise MessagingError("알 수 없는 채널이에요.", "Unknown channel.", field="channel")
    check_template(body)
    check_template(subject)
    return MessageTemplate.objects.for_shop(shop).create(
        shop=shop,
        name=name.strip()[:80] or "템플릿",
        channel=channel,
        kind=kind if kind in Kind.values else Kind.AD,
        body=body,
        subject=subject,
    )


def address_for(customer: Customer, channel: str) -> str:
    return customer.email if channel == Channel.EMAIL else customer.phone


def address_bidx(*, shop_id: int, address: str) -> str:
    return blind_index(address.strip().casefold(), purpose="suppression", shop_id=shop_id)


@dataclass(frozen=True)
class Outgoing:
    customer: Customer
    values: Mapping[str, Any]
    occurrence: str


def message_bulk_enqueue(
    *,
    shop: Shop,
    template: MessageTemplate,
    recipients: Iterable[Outgoing],
    source: str,
    step: str = "",
    sender: str = "",
    scheduled_for: dt.datetime | None = None,
    batch_size: int = 2_000,
) -> int:
    """Render and queue one message per recipient; rows whose key exists are skipped, so a
    retried or repeated call queues nothing twice. Returns how many rows were added."""
    when = scheduled_for or timezone.now()
    rows = []
    for item in recipients:
        address = address_for(item.customer, template.channel)
        if not address:
            continue
        rows.append(
            OutboxMessage(
                shop=shop,
                idempotency_key=idempotency_key(
                    source=source,
                    step=step,
                    customer_id=item.customer.pk,
                    channel=template.channel,
                    occurrence=item.occurrence,
                ),
                source=source,
                customer=item.customer,
                channel=template.channel,
                kind=template.kind,
                to_address=address,
                sender=sender,
                subject=render(template.subject, item.values),
                body=render(template.body, item.values),
                scheduled_for=when,
            )
        )
    added = 0
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        keys = [r.idempotency_key for r in chunk]
        with transaction.atomic():
            taken = set(
                OutboxMessage.objects.for_shop(shop)
                .filter(idempotency_key__in=keys)
                .values_list("idempotency_key", flat=True)
            )
            fresh = [r for r in chunk if r.idempotency_key not in taken]
            # A concurrent enqueue may win the race: the unique key makes that a no-op.
            OutboxMessage.objects.for_shop(shop).bulk_create(
                fresh, batch_size=batch_size, ignore_conflicts=True
            )
            added += len(fresh)
    return added


def message_enqueue(
    *,
    shop: Shop,
    customer: Customer,
    channel: str,
    kind: str,
    body: str,
    subject: str = "",
    source: str,
    step: str = "",
    occurrence: str,
    sender: str = "",
    scheduled_for: dt.datetime | None = None,
) -> tuple[OutboxMessage, bool]:
    """Queue one message; returns (message, created). The existing row comes back if the key
    was already used."""
    key = idempotency_key(
        source=source, step=step, customer_id=customer.pk, channel=channel, occurrence=occurrence
    )
    existing = OutboxMessage.objects.for_shop(shop).filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.for_shop(shop).create(
                shop=shop,
                idempotency_key=key,
                source=source,
                customer=customer,
                channel=channel,
                kind=kind if kind in Kind.values else Kind.AD,
                to_address=address_for(customer, channel),
                sender=sender,
                subject=subject,
                body=body,
                scheduled_for=scheduled_for or timezone.now(),
            )
    except IntegrityError:
        return OutboxMessage.objects.for_shop(shop).get(idempotency_key=key), False
    return message, True


def message_event(
    *, message: OutboxMessage, status: str, reasons: list[str] | None = None, detail: str = ""
) -> OutboxEvent:
    return OutboxEvent.objects.for_shop(message.shop_id).create(
        shop_id=message.shop_id,
        message=message,
        status=status,
        reasons=list(reasons or []),
        detail=detail[:300],
    )


def suppression_add(*, shop: Shop, address: str, channel: str, source: str) -> Suppression:
    """Stop ads to an address on a channel at once (080 opt-out, unsubscribe link)."""
    row, _ = Suppression.objects.for_shop(shop).get_or_create(
        shop=shop,
        address_bidx=address_bidx(shop_id=shop.pk, address=address),
        channel=channel,
        defaults={"source": source},
    )
    return row


__all__ = [
    "MessagingError",
    "Outgoing",
    "Status",
    "idempotency_key",
    "message_bulk_enqueue",
    "message_enqueue",
    "message_event",
    "suppression_add",
    "template_create",
]
