"""Reads for campaigns: what the policy gate would decide right now for a segment's members."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from dangol.customers.models import Customer
from dangol.customers.selectors import consent_states
from dangol.loyalty.checkin import customer_page_url
from dangol.loyalty.selectors import points_balances, stamp_counts
from dangol.messaging import policy
from dangol.messaging.models import Channel, MessageTemplate, Suppression
from dangol.messaging.receipts import unsubscribe_url
from dangol.messaging.recipients import recent_ad_counts, recipient, shop_identity
from dangol.messaging.services import address_bidxes, address_for
from dangol.messaging.templates import render
from dangol.sales.selectors import favourite_items
from dangol.segments.models import Segment
from dangol.segments.selectors import segment_members
from dangol.shops.models import Shop

# The variables campaign_send fills; the forecast renders the same text. The coupon ones are
# not: a campaign issues no coupon (an automation does, one per send), so they go out empty.
FILLED = ("name", "shop", "points", "favourite_item", "stamps", "link")


def template_values(*, shop: Shop, customers: Sequence[Customer]) -> dict[int, dict[str, str]]:
    """What a campaign fills in for each customer: the messaging layer renders values it is
    given and never reads loyalty or sales itself. Three queries however many customers."""
    ids = [c.pk for c in customers]
    balances = points_balances(shop=shop, customer_ids=ids)
    stamps = stamp_counts(shop=shop, customer_ids=ids)
    favourites = favourite_items(shop=shop, customer_ids=ids)
    return {
        c.pk: {
            "name": c.name,
            "shop": shop.name,
            "points": f"{balances.get(c.pk, 0):,}",
            "favourite_item": favourites.get(c.pk, ""),
            "stamps": str(stamps.get(c.pk, 0)),
            "link": customer_page_url(shop_id=shop.pk, customer_id=c.pk),
        }
        for c in customers
    }


@dataclass
class Forecast:
    members: int = 0
    checked: int = 0
    send: int = 0
    hold: int = 0
    block: int = 0
    no_address: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    # Set by a caller that could not evaluate the segment (its rule no longer parses).
    problems: list[str] = field(default_factory=list)


def campaign_forecast(
    *,
    shop: Shop,
    segment: Segment,
    template: MessageTemplate,
    now: dt.datetime,
    sample: int = 200,
    top_reasons: int = 5,
) -> Forecast:
    """The gate's decision now for up to ``sample`` members, each with their own consent,
    opt-outs and recent ads, on the text ``campaign_send`` would write. ``RuleError`` if the
    segment's rule is no longer valid."""
    out = Forecast()
    members = segment_members(shop=shop, segment=segment)
    out.members = members.count()
    people = list(members[:sample]) if out.members else []
    out.checked = len(people)
    if not people:
        return out
    ids = [c.pk for c in people]
    consents = consent_states(shop=shop, customer_ids=ids)
    day, month = recent_ad_counts(customer_ids=ids, now=now)
    addresses = {c.pk: address_for(c, template.channel) for c in people}
    keys = {pk: address_bidxes(shop_id=shop.pk, address=a) for pk, a in addresses.items() if a}
    suppressed = set(
        Suppression.objects.for_shop(shop)
        .filter(address_bidx__in={k for ks in keys.values() for k in ks}, channel=template.channel)
        .values_list("address_bidx", flat=True)
    )
    identity = shop_identity(shop)
    filled = template_values(shop=shop, customers=people)
    sender = (shop.sender_numbers or [""])[0]
    reasons: Counter[str] = Counter()
    for customer in people:
        if not addresses[customer.pk]:
            out.no_address += 1  # campaign_send skips them: nothing to send to
            continue
        values = filled[customer.pk]
        decision = policy.evaluate(
            policy.Message(
                channel=template.channel,
                kind=template.kind,
                body=render(template.body, values),
                subject=render(template.subject, values),
                send_at=now,
                sender=sender,
                unsubscribe_url=unsubscribe_url(
                    shop_id=shop.pk, customer_id=customer.pk, channel=template.channel
                )
                if template.channel == Channel.EMAIL
                else "",
            ),
            recipient(
                consents.get(customer.pk, {}),
                opted_out=not suppressed.isdisjoint(keys.get(customer.pk, ())),
                last_24h=day[customer.pk],
                last_30d=month[customer.pk],
            ),
            identity,
            policy.PolicySettings(),
        )
        setattr(out, decision.decision, getattr(out, decision.decision) + 1)
        # A blocked message is counted under what blocks it (not also under a night hold).
        counted = policy.BLOCK_CODES if decision.decision == policy.BLOCK else policy.HOLD_CODES
        for code in set(decision.codes) & counted:
            reasons[code] += 1
    out.reasons = reasons.most_common(top_reasons)
    return out
