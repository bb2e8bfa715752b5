"""The dispatcher: claim due messages, pass each through the policy gate at the moment of
sending, call the provider, record what happened — exactly once.

Exactly once, step by step:
1. A message is claimed by one conditional UPDATE (status queued/held → sending, with this
   worker's token), which only one worker can win on SQLite and PostgreSQL alike.
2. The claim is committed before the provider is called. So is the text that goes out: the
   gate's final text, the attempt and the send time of every message about to go are committed
   in one transaction before the first of them is handed to the provider. If the worker dies
   after that, the rows stay "sending"; once their lease runs out they become "unknown".
3. An unknown message is never sent again blindly: the provider is asked about it by our
   idempotency key first. Only "the provider never got it" puts it back in the queue.

Writes are batched: the decisions of a batch (blocked, held, about to send) are one
transaction, the provider's answers another, each an UPDATE per row in one statement plus one
INSERT of the history events. A customer with several messages in one batch has them gated in
turn (one per wave), so the frequency cap sees the outcome of the earlier one, as when messages
went one at a time. A provider that allows it (SMTP) is given the messages of a wave on
several connections at once (``sending``); the answers are still recorded on this thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from dangol.customers.selectors import consent_states
from dangol.messaging import policy
from dangol.messaging.models import Channel, Kind, OutboxMessage, Status, Suppression
from dangol.messaging.providers.base import Outcome, OutgoingMessage, Provider, SendResult
from dangol.messaging.receipts import unsubscribe_url
from dangol.messaging.recipients import recent_ad_counts, recipient, shop_identity
from dangol.messaging.records import Changes, update_rows
from dangol.messaging.records import record as record_now
from dangol.messaging.sending import send_all
from dangol.messaging.services import address_bidxes
from dangol.shops.models import Shop

LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
CONSENT_KIND = {
    Channel.SMS: "ad_sms",
    Channel.ALIMTALK: "ad_kakao",
    Channel.BRAND: "ad_kakao",
    Channel.EMAIL: "ad_email",
    Channel.PUSH: "ad_push",
}
# What is committed before the provider is called.
ABOUT_TO_SEND = (
    "final_body",
    "final_subject",
    "message_type",
    "attempts",
    "sent_at",
    "provider",
    "reasons",
)


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    delivered: int = 0
    held: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    unknown: int = 0
    reconciled: int = 0
    by_reason: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=2 ** min(attempts, 8))


def _apply_result(
    message: OutboxMessage,
    result: SendResult,
    report: DispatchReport,
    now: dt.datetime,
    record: Callable[..., None] = record_now,
) -> None:
    detail = f"{result.code} {result.detail}".strip()
    if result.outcome == Outcome.DELIVERED:
        record(
            message,
            Status.DELIVERED,
            detail=detail,
            claimed_by="",
            provider_message_id=result.provider_message_id or message.provider_message_id,
        )
        report.delivered += 1
    elif result.outcome == Outcome.ACCEPTED:
        record(
            message,
            Status.SENT,
            detail=detail,
            claimed_by="",
            provider_message_id=result.provider_message_id,
        )
        report.sent += 1
    elif result.outcome == Outcome.FAILED and result.retryable and message.attempts < MAX_ATTEMPTS:
        record(
            message,
            Status.QUEUED,
            ["provider_retry"],
            detail,
            claimed_by="",
            scheduled_for=now + _backoff(message.attempts),
        )
        report.retried += 1
    elif result.outcome == Outcome.FAILED:
        record(message, Status.FAILED, ["provider_failed"], detail, claimed_by="")
        report.failed += 1
    else:
        record(message, Status.UNKNOWN, ["outcome_unknown"], detail, claimed_by="")
        report.unknown += 1


def _outgoing(message: OutboxMessage, decision: Any) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=message.idempotency_key,
        channel=message.channel,
        message_type=decision.message_type if decision else message.message_type,
        kind=message.kind,
        to=message.to_address,
        sender=message.sender,
        body=message.final_body or message.body,
        subject=message.final_subject,
        unsubscribe_url=_unsubscribe_url(message) if message.channel == "email" else "",
    )


def _expire_leases(now: dt.datetime, report: DispatchReport, lease: dt.timedelta) -> None:
    stale = OutboxMessage.unscoped.filter(status=Status.SENDING, claimed_at__lt=now - lease)
    changes = Changes()
    for message in stale:
        changes.record(message, Status.UNKNOWN, ["lease_expired"], claimed_by="")
        report.unknown += 1
    changes.flush()


def _reconcile(
    providers: Mapping[str, Provider], report: DispatchReport, limit: int, now: dt.datetime
) -> None:
    changes = Changes()
    try:
        for message in OutboxMessage.unscoped.filter(status=Status.UNKNOWN).order_by("pk")[:limit]:
            provider = providers.get(message.channel)
            if provider is None:
                continue
            result = provider.status(_outgoing(message, None), message.provider_message_id)
            if result.outcome == Outcome.UNKNOWN:
                continue  # ask again on the next round; never resend on a guess
            report.reconciled += 1
            if result.outcome == Outcome.FAILED and result.retryable:
                # The provider never got it: queue it again now; this is not a failed attempt.
                changes.record(
                    message,
                    Status.QUEUED,
                    ["reconciled_not_received"],
                    claimed_by="",
                    scheduled_for=now,
                )
                continue
            _apply_result(message, result, report, now, changes.record)
    finally:
        changes.flush()


def _claim(now: dt.datetime, limit: int, shop: Shop | None) -> list[OutboxMessage]:
    due = OutboxMessage.unscoped.filter(
        status__in=(Status.QUEUED, Status.HELD), scheduled_for__lte=now
    )
    if shop is not None:
        due = due.filter(shop=shop)
    ids = list(due.order_by("scheduled_for", "pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    token = uuid.uuid4().hex
    with transaction.atomic():
        connection = connections[router.db_for_write(OutboxMessage)]
        if connection.vendor == "sqlite":
            _claim_sqlite(connection, ids, token, now)
        else:
            OutboxMessage.unscoped.filter(
                pk__in=ids, status__in=(Status.QUEUED, Status.HELD)
            ).update(status=Status.SENDING, claimed_by=token, claimed_at=now)
    return list(
        OutboxMessage.unscoped.filter(claimed_by=token, status=Status.SENDING)
        .select_related("shop")
        .order_by("scheduled_for", "pk")
    )


def _claim_sqlite(connection: Any, ids: list[int], token: str, now: dt.datetime) -> None:
    """The same conditional UPDATE, written so that SQLite finds the rows by key: without
    statistics it would otherwise walk the status index through every queued row (all the
    messages scheduled for later, too) on each claim."""
    meta = OutboxMessage._meta
    quote = connection.ops.quote_name
    claimed_at = meta.get_field("claimed_at").get_db_prep_save(now, connection)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        sql = (
            f"UPDATE {quote(meta.db_table)} SET {quote('status')} = %s, "  # noqa: S608
            f"{quote('claimed_by')} = %s, {quote('claimed_at')} = %s "
            f"WHERE {quote(meta.pk.column)} IN ({marks}) AND +{quote('status')} IN (%s, %s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql, [Status.SENDING, token, claimed_at, *chunk, Status.QUEUED, Status.HELD]
            )


def _suppressed(messages: list[OutboxMessage]) -> set[int]:
    by_shop: dict[int, list[OutboxMessage]] = defaultdict(list)
    for m in messages:
        by_shop[m.shop_id].append(m)
    hit: set[int] = set()
    for shop_id, group in by_shop.items():
        keys = {m.pk: address_bidxes(shop_id=shop_id, address=m.to_address) for m in group}
        found = set(
            Suppression.unscoped.filter(
                shop_id=shop_id, address_bidx__in={k for ks in keys.values() for k in ks}
            )
            .filter(Q(channel__in={m.channel for m in group}))
            .values_list("address_bidx", "channel")
        )
        hit |= {m.pk for m in group if any((k, m.channel) in found for k in keys[m.pk])}
    return hit


def _unsubscribe_url(message: OutboxMessage) -> str:
    if message.customer_id is None:
        return ""
    return unsubscribe_url(
        shop_id=message.shop_id, customer_id=message.customer_id, channel=message.channel
    )


def _waves(messages: list[OutboxMessage]) -> list[list[OutboxMessage]]:
    """The batch in claim order, split so that no customer has two messages in one wave."""
    waves: list[list[OutboxMessage]] = []
    seen: dict[int | None, int] = defaultdict(int)
    for message in messages:
        turn = seen[message.customer_id]
        seen[message.customer_id] += 1
        if turn == len(waves):
            waves.append([])
        waves[turn].append(message)
    return waves


def outbox_dispatch(
    *,
    providers: Mapping[str, Provider],
    now: dt.datetime | None = None,
    limit: int = 200,
    shop: Shop | None = None,
    settings: policy.PolicySettings | None = None,
    lease: dt.timedelta = LEASE,
) -> DispatchReport:
    """One round: expire leases, reconcile unknowns, then claim and send up to ``limit``."""
    now = now or timezone.now()
    report = DispatchReport()
    _expire_leases(now, report, lease)
    _reconcile(providers, report, limit, now)
    messages = _claim(now, limit, shop)
    report.claimed = len(messages)
    if not messages:
        return report
    day, month = recent_ad_counts(
        customer_ids=[m.customer_id for m in messages if m.customer_id], now=now
    )
    suppressed = _suppressed(messages)
    consents: dict[int, dict[str, bool]] = {}
    identities: dict[int, policy.ShopIdentity] = {}
    for shop_id in {m.shop_id for m in messages}:
        group = [m for m in messages if m.shop_id == shop_id]
        consents |= consent_states(
            shop=group[0].shop, customer_ids=[m.customer_id for m in group if m.customer_id]
        )
        identities[shop_id] = shop_identity(group[0].shop)
    settings = settings or policy.PolicySettings()
    for wave in _waves(messages):
        _dispatch_wave(
            wave, providers, report, now, settings, consents, identities, suppressed, day, month
        )
    return report


def _dispatch_wave(
    messages: list[OutboxMessage],
    providers: Mapping[str, Provider],
    report: DispatchReport,
    now: dt.datetime,
    settings: policy.PolicySettings,
    consents: Mapping[int, Mapping[str, bool]],
    identities: Mapping[int, policy.ShopIdentity],
    suppressed: set[int],
    day: dict[int, int],
    month: dict[int, int],
) -> None:
    decided = Changes()
    going: list[tuple[OutboxMessage, Any, Provider]] = []
    for message in messages:
        facts = recipient(
            consents.get(message.customer_id, {}),
            opted_out=message.pk in suppressed,
            last_24h=day[message.customer_id],
            last_30d=month[message.customer_id],
        )
        decision = policy.evaluate(
            policy.Message(
                channel=message.channel,
                kind=message.kind,
                body=message.body,
                subject=message.subject,
                send_at=now,
                sender=message.sender,
                unsubscribe_url=_unsubscribe_url(message) if message.channel == "email" else "",
            ),
            facts,
            identities[message.shop_id],
            settings,
        )
        for reason in decision.reasons:
            report.by_reason[reason] += 1
        if decision.decision == "block":
            decided.record(message, Status.BLOCKED, decision.reasons, claimed_by="")
            report.blocked += 1
            continue
        if decision.decision == "hold":
            decided.record(
                message,
                Status.HELD,
                decision.reasons,
                claimed_by="",
                scheduled_for=decision.hold_until,
            )
            report.held += 1
            continue
        provider = providers.get(message.channel)
        if provider is None:
            decided.record(message, Status.FAILED, ["no_provider"], claimed_by="")
            report.failed += 1
            continue
        message.final_body = decision.final_body
        message.final_subject = decision.final_subject
        message.message_type = decision.message_type
        message.attempts += 1
        message.sent_at = now
        message.provider = getattr(provider, "name", "")
        message.reasons = list(decision.reasons)
        going.append((message, decision, provider))
    # Written (and committed) before any provider is called: the text that goes out is the
    # text on record, and a crash from here on leaves "sending" rows to reconcile.
    with transaction.atomic():
        update_rows([message for message, _, _ in going], ABOUT_TO_SEND)
        decided.flush()
    answered = Changes()

    def answer(message: OutboxMessage, result: SendResult) -> None:
        _apply_result(message, result, report, now, answered.record)
        if message.kind == Kind.AD and result.outcome in (
            Outcome.ACCEPTED,
            Outcome.DELIVERED,
            Outcome.UNKNOWN,
        ):
            day[message.customer_id] += 1
            month[message.customer_id] += 1

    try:
        send_all(
            [
                (message, _outgoing(message, decision), provider)
                for message, decision, provider in going
            ],
            answer,
        )
    finally:
        # Whatever was answered is recorded, even if this worker is being stopped.
        answered.flush()
