"""What the policy gate needs to know about a shop and a recipient, read the same way for the
dispatcher (at the moment of sending) and for the forecasts the owner's pages show."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

from dangol.core.phone import format_phone
from dangol.messaging import policy
from dangol.messaging.models import Kind, OutboxMessage, Status
from dangol.shops.models import Shop

# Statuses that count as "an ad went out" for the frequency caps (unknown may have gone).
COUNTED = (Status.SENT, Status.DELIVERED, Status.UNKNOWN)


def shop_identity(shop: Shop) -> policy.ShopIdentity:
    # The phone as people write it ("02-555-0101"): it is printed in every ad's header line.
    return policy.ShopIdentity(
        name=shop.name,
        phone=format_phone(shop.phone) if shop.phone else "",
        optout_080=shop.optout_080,
        sender_numbers=tuple(shop.sender_numbers or ()),
        address=shop.address,
        email=shop.email,
    )


def recent_ad_counts(
    *, customer_ids: Iterable[int], now: dt.datetime
) -> tuple[dict[int, int], dict[int, int]]:
    """Ads already sent per customer in the 24 hours and 30 days before ``now``.

    Customer ids are unique across shops, so the dispatcher can ask for a batch that mixes
    shops; a page asks only for its own shop's customers.
    """
    day: dict[int, int] = defaultdict(int)
    month: dict[int, int] = defaultdict(int)
    rows = OutboxMessage.unscoped.filter(
        customer_id__in=set(customer_ids),
        kind=Kind.AD,
        status__in=COUNTED,
        sent_at__gte=now - dt.timedelta(days=30),
    ).values_list("customer_id", "sent_at")
    for customer_id, sent_at in rows:
        month[customer_id] += 1
        if sent_at >= now - dt.timedelta(hours=24):
            day[customer_id] += 1
    return day, month


def recipient(
    consent: Mapping[str, bool], *, opted_out: bool, last_24h: int, last_30d: int
) -> policy.Recipient:
    """The gate's recipient from the consent in force (``consent_states``) and the counters."""
    return policy.Recipient(
        ad_consent={
            "sms": consent.get("ad_sms", False),
            "kakao": consent.get("ad_kakao", False),
            "email": consent.get("ad_email", False),
            "push": consent.get("ad_push", False),
        },
        night_consent=consent.get("ad_night", False),
        opted_out=opted_out,
        messages_last_24h=last_24h,
        messages_last_30d=last_30d,
    )
