from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404

from dangol.core.crypto import blind_indexes
from dangol.core.phone import normalize_phone
from dangol.customers.models import ConsentEvent, ConsentKind, Customer, CustomerIdentity
from dangol.customers.search import query_token_sets
from dangol.customers.services import phone_blind_indexes
from dangol.shops.models import Shop


def customer_queryset(*, shop: Shop) -> QuerySet[Customer]:
    return Customer.objects.for_shop(shop).filter(merged_into__isnull=True)


def customer_search(*, shop: Shop, query: str = "") -> QuerySet[Customer]:
    """Customers matching a name fragment, the phone's last 4 digits or a whole phone."""
    qs = customer_queryset(shop=shop)
    query = (query or "").strip()
    if not query:
        return qs
    compact = "".join(ch for ch in query if ch not in "+-() ")
    if compact.isdigit() and len(compact) >= 9:  # a whole phone number, any common spelling
        try:
            phone = normalize_phone(query)
        except ValueError:
            return qs.none()
        return qs.filter(phone_bidx__in=phone_blind_indexes(shop_id=shop.pk, phone_e164=phone))
    token_sets = query_token_sets(shop_id=shop.pk, query=query)
    if not token_sets:
        return qs
    condition = Q(pk__in=[])
    for tokens in token_sets:
        every = Q()
        for token in tokens:
            every &= Q(search_tokens__contains=f" {token} ")
        condition |= every
    return qs.filter(condition)


def customer_list(*, shop: Shop, query: str = "") -> QuerySet[Customer]:
    """Customers with visit count, last visit and total spend, most recent visitors first."""
    paid = Q(purchases__status="paid")
    return (
        customer_search(shop=shop, query=query)
        .annotate(
            visit_count=Count("purchases", filter=paid),
            last_visit=Max("purchases__occurred_at", filter=paid),
            total_spend=Sum("purchases__total", filter=paid),
        )
        .order_by("-last_visit", "-pk")
    )


def customer_get(*, shop: Shop, customer_id: int) -> Customer:
    return get_object_or_404(
        customer_queryset(shop=shop).select_related("home_store"), pk=customer_id
    )


def customer_find_by_phone(*, shop: Shop, phone: str) -> Customer | None:
    indexes = phone_blind_indexes(shop_id=shop.pk, phone_e164=normalize_phone(phone))
    return customer_queryset(shop=shop).filter(phone_bidx__in=indexes).first()


@dataclass(frozen=True)
class ConsentState:
    kind: str
    label: str
    granted: bool
    since: datetime | None
    source: str


def consent_current(*, customer: Customer) -> list[ConsentState]:
    """The consent in force per kind: the latest event wins; no event means not granted."""
    latest: dict[str, ConsentEvent] = {}
    events = (
        ConsentEvent.objects.for_shop(customer.shop_id)
        .filter(customer=customer)
        .order_by("occurred_at", "pk")
    )
    for event in events:
        latest[event.kind] = event
    return [
        ConsentState(
            kind=kind,
            label=str(label),
            granted=bool(latest.get(kind) and latest[kind].granted),
            since=latest[kind].occurred_at if kind in latest else None,
            source=latest[kind].source if kind in latest else "",
        )
        for kind, label in ConsentKind.choices
    ]


def consent_states(*, shop: Shop, customer_ids: list[int]) -> dict[int, dict[str, bool]]:
    """The consent in force per kind for many customers at once (latest event wins)."""
    states: dict[int, dict[str, bool]] = {pk: {} for pk in customer_ids}
    events = (
        ConsentEvent.objects.for_shop(shop)
        .filter(customer_id__in=customer_ids)
        .order_by("occurred_at", "pk")
        .values_list("customer_id", "kind", "granted")
    )
    for customer_id, kind, granted in events:
        states[customer_id][kind] = granted
    return states


def customer_ids_by_identity(
    *, shop: Shop, identities: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The live customer (followed past merges) of each (kind, normalised value) that someone
    has, looked up under every blind-index key; unknown identities are left out."""
    wanted: dict[tuple[str, str], tuple[str, str]] = {}  # (kind, index) -> (kind, value)
    for kind, value in set(identities):
        for index in blind_indexes(value, purpose=kind, shop_id=shop.pk):
            wanted[(kind, index)] = (kind, value)
    if not wanted:
        return {}
    rows = CustomerIdentity.unscoped.filter(
        shop=shop,
        kind__in={kind for kind, _ in wanted},
        value_bidx__in=[index for _, index in wanted],
    ).values_list("kind", "value_bidx", "customer_id")
    found: dict[tuple[str, str], int] = {}
    for kind, index, customer_id in rows:
        if (kind, index) in wanted:
            found.setdefault(wanted[(kind, index)], customer_id)
    merged = dict(
        Customer._base_manager.filter(
            pk__in=set(found.values()), merged_into__isnull=False
        ).values_list("pk", "merged_into_id")
    )
    for pair, customer_id in found.items():
        hops = 0
        while customer_id in merged and hops < 20:
            customer_id = merged[customer_id]
            if customer_id not in merged:
                successor = (
                    Customer._base_manager.filter(pk=customer_id)
                    .values_list("merged_into_id", flat=True)
                    .first()
                )
                if successor is not None:
                    merged[customer_id] = successor
            hops += 1
        found[pair] = customer_id
    return found


def customer_find_by_identity(*, shop: Shop, kind: str, value: str) -> Customer | None:
    """The live customer with this identity (value normalised: E.164 phone, lower-cased
    e-mail), under every blind-index key; a phone attached to a customer besides their main
    number finds them too."""
    found = customer_ids_by_identity(shop=shop, identities=[(kind, value)])
    if not found:
        return None
    return customer_queryset(shop=shop).filter(pk=found[(kind, value)]).first()
