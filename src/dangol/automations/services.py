"""Campaigns: a template sent to a segment's members, each member's message queued exactly once.

The audience is the segment as it is now; whether each message may go is decided later, at
dispatch, by the policy gate (consent, night hours, caps), never here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from dangol.automations.selectors import template_values
from dangol.customers.models import Customer
from dangol.messaging.models import MessageTemplate
from dangol.messaging.services import Outgoing, message_bulk_enqueue
from dangol.segments.models import Segment
from dangol.segments.selectors import segment_members
from dangol.shops.models import Shop

CHUNK = 2000


def _recipients(shop: Shop, customers: Iterable[Customer], occurrence: str) -> Iterator[Outgoing]:
    """Each member with the values its message is filled with, read a chunk at a time."""
    chunk: list[Customer] = []
    for customer in customers:
        chunk.append(customer)
        if len(chunk) == CHUNK:
            yield from _filled(shop, chunk, occurrence)
            chunk = []
    yield from _filled(shop, chunk, occurrence)


def _filled(shop: Shop, chunk: list[Customer], occurrence: str) -> Iterator[Outgoing]:
    values = template_values(shop=shop, customers=chunk)
    return (Outgoing(c, values[c.pk], occurrence) for c in chunk)


def campaign_send(
    *,
    shop: Shop,
    segment: Segment,
    template: MessageTemplate,
    occurrence: str,
    scheduled_for: dt.datetime | None = None,
) -> int:
    """Queue the template for every current member; the same (segment, template, occurrence)
    never queues a member twice. Returns how many messages were added."""
    sender = (shop.sender_numbers or [""])[0]
    members = segment_members(shop=shop, segment=segment)
    return message_bulk_enqueue(
        shop=shop,
        template=template,
        recipients=_recipients(shop, members.iterator(chunk_size=CHUNK), occurrence),
        source=f"segment:{segment.pk}",
        step=f"template:{template.pk}",
        sender=sender,
        scheduled_for=scheduled_for,
    )
