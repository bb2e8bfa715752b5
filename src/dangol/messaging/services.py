"""Writes for messaging: templates, putting messages in the outbox, suppressions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone

from dangol.core.crypto import blind_index, blind_indexes
from dangol.core.fields import EncryptedTextField
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


def address_bidxes(*, shop_id: int, address: str) -> list[str]:
    """Every hash an opt-out of this address may be stored under during a key rotation."""
    return blind_indexes(address.strip().casefold(), purpose="suppression", shop_id=shop_id)


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
    batch_size: int = 10_000,
) -> int:
    """Render and queue one message per recipient; rows whose key exists are skipped, so a
    retried or repeated call queues nothing twice. Returns how many rows were added."""
    when = scheduled_for or timezone.now()
    # Everything is rendered before anything is written (a bad value fails the whole call).
    rows: list[tuple[str, int, str, str, str]] = []
    for item in recipients:
        address = address_for(item.customer, template.channel)
        if not address:
            continue
        key = idempotency_key(
            source=source,
            step=step,
            customer_id=item.customer.pk,
            channel=template.channel,
            occurrence=item.occurrence,
        )
        subject = _render(template.subject, item.values)
        rows.append((key, item.customer.pk, address, subject, _render(template.body, item.values)))
    if not rows:
        return 0
    insert = _OutboxInsert(
        OutboxMessage(
            shop=shop,
            source=source,
            channel=template.channel,
            kind=template.kind,
            sender=sender,
            scheduled_for=when,
        )
    )
    added = 0
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        with transaction.atomic():
            # Keys queued by an earlier call are skipped before encrypting anything; one queued
            # by a concurrent call meanwhile makes its insert a no-op.
            taken = insert.taken(shop.pk, [row[0] for row in chunk])
            added += insert.run([row for row in chunk if row[0] not in taken])
    return added


def _render(text: str, values: Mapping[str, Any]) -> str:
    if "{" not in text and "}" not in text:
        return text  # nothing to fill (and nothing render could object to)
    return render(text, values)


class _OutboxInsert:
    """``bulk_create(ignore_conflicts=True)`` of outbox rows that differ only in key, customer,
    address, subject and body: the other columns are prepared once from a template row, so
    per row only the personal fields are encrypted. One prepared INSERT run once per row."""

    VARYING = ("idempotency_key", "customer", "to_address", "subject", "body")

    def __init__(self, base: OutboxMessage) -> None:
        self.connection = connections[router.db_for_write(OutboxMessage)]
        ops = self.connection.ops
        meta = OutboxMessage._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        varying = [meta.get_field(name) for name in self.VARYING]
        fixed = [f for f in fields if f not in varying]
        self.encrypted = [isinstance(f, EncryptedTextField) for f in varying]
        self.varying = varying
        self.fixed = [f.get_db_prep_save(f.pre_save(base, True), self.connection) for f in fixed]
        columns = [*varying, *fixed]
        names = ", ".join(ops.quote_name(f.column) for f in columns)
        marks = ", ".join(["%s"] * len(columns))
        suffix = ops.on_conflict_suffix_sql(columns, OnConflict.IGNORE, None, None)
        self.sql = (
            f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} "
            f"{ops.quote_name(meta.db_table)} ({names}) VALUES ({marks}) {suffix}"
        ).strip()

    def taken(self, shop_id: int, keys: list[str]) -> set[str]:
        """The keys among ``keys`` this shop has already queued: plain queries, without the
        ORM's per-value preparation of an IN list, in pieces the database's parameter limit
        allows (999 on SQLite builds that still have the old default)."""
        meta = OutboxMessage._meta
        quote = self.connection.ops.quote_name
        key = quote(meta.get_field("idempotency_key").column)
        shop = quote(meta.get_field("shop").column)
        step = (self.connection.features.max_query_params or 65_536) - 1
        found: set[str] = set()
        with self.connection.cursor() as cursor:
            for start in range(0, len(keys), step):
                piece = keys[start : start + step]
                marks = ", ".join(["%s"] * len(piece))
                cursor.execute(
                    f"SELECT {key} FROM {quote(meta.db_table)} "  # noqa: S608
                    f"WHERE {shop} = %s AND {key} IN ({marks})",
                    [shop_id, *piece],
                )
                found.update(value for (value,) in cursor.fetchall())
        return found

    def run(self, rows: list[tuple[str, int, str, str, str]]) -> int:
        """Insert the rows whose key is new; returns how many were inserted."""
        if not rows:
            return 0
        connection, fields, fixed = self.connection, self.varying, self.fixed
        prepared = [
            [
                *(
                    f.get_db_prep_save(value, connection) if secret else value
                    for f, secret, value in zip(fields, self.encrypted, row, strict=True)
                ),
                *fixed,
            ]
            for row in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, prepared)
            # SQLite and psycopg both sum the rows each execution changed; an ignored
            # conflict changes none.
            return cursor.rowcount


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


def message_events_bulk(
    changes: Iterable[tuple[OutboxMessage, str, list[str] | None, str]],
) -> int:
    """Append many events at once: ``(message, status, reasons, detail)`` each, as
    ``message_event`` would, with one prepared INSERT. Returns how many were added."""
    connection = connections[router.db_for_write(OutboxEvent)]
    meta = OutboxEvent._meta
    varying = [meta.get_field(name) for name in ("shop", "message", "status", "reasons", "detail")]
    # Every other column (the time, anything added later) as the model's default gives it.
    base = OutboxEvent(at=timezone.now())
    fixed = [f for f in meta.concrete_fields if not f.primary_key and f not in varying]
    constants = [f.get_db_prep_save(f.pre_save(base, True), connection) for f in fixed]
    fields = [*varying, *fixed]
    reasons_field = varying[3]
    rows = [
        (
            message.shop_id,
            message.pk,
            status,
            reasons_field.get_db_prep_save(list(reasons or []), connection),
            detail[:300],
            *constants,
        )
        for message, status, reasons, detail in changes
    ]
    if not rows:
        return 0
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


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
    "message_events_bulk",
    "suppression_add",
    "template_create",
]
