"""Campaigns: a template sent to a segment's members, each member's message queued exactly once.

The audience is the segment as it is now; whether each message may go is decided later, at
dispatch, by the policy gate (consent, night hours, caps), never here.
"""

from __future__ import annotations

import datetime as dt

from dangol.messaging.models import MessageTemplate
from dangol.messaging.services import Outgoing, message_bulk_enqueue
from dangol.segments.models import Segment
from dangol.segments.selectors import segment_members
from dangol.shops.models import Shop


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
    recipients = (
        Outgoing(customer, {"name": customer.name, "shop": shop.name}, occurrence)
        for customer in members.iterator(chunk_size=2000)
    )
    return message_bulk_enqueue(
        shop=shop,
        template=template,
        recipients=recipients,
        source=f"segment:{segment.pk}",
        step=f"template:{template.pk}",
        sender=sender,
        scheduled_for=scheduled_for,
    )
