"""Reads for the merge page: likely duplicates, the merge history, one merge.

Likely duplicates are customers with the same name and the same last 4 phone digits. Names are
encrypted, so the database cannot compare them; the search tokens can. A customer's
``search_tokens`` is the sorted set of keyed hashes of its name's characters and character
pairs plus the phone's last 4 digits, so two customers with the same name and last 4 digits have
exactly the same string. The database groups customers by that string (one GROUP BY, no
decryption), and only the customers of groups of two or more are decrypted, to
confirm the names really are equal (two different names can share their character pairs, e.g.
a name and its reversal with a repeated character). Decrypting every customer of the shop in
batches would also work but costs one decryption per customer on every page view; the tokens
cost one per candidate. While a blind-index key is being rotated, a customer not yet re-indexed
has tokens under the old key and is matched only once the rotation has finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from dangol.core.phone import phone_last4
from dangol.customers.models import Customer, CustomerMerge, MergeDismissal
from dangol.customers.selectors import customer_queryset
from dangol.shops.models import Shop

GROUP_BATCH = 200


def _name_key(name: str) -> str:
    return "".join(name.split()).casefold()


@dataclass(frozen=True)
class MergeSuggestion:
    # ``keep`` is the customer a merge keeps by default: more visits, then the older one.
    keep: Customer
    merge: Customer


def _with_visits(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    paid = Q(purchases__status="paid")
    return qs.annotate(
        visit_count=Count("purchases", filter=paid),
        last_visit=Max("purchases__occurred_at", filter=paid),
    )


def merge_suggestions(*, shop: Shop, limit: int = 20) -> list[MergeSuggestion]:
    """Pairs of current customers with the same name and the same last 4 phone digits, not
    dismissed as different people; newest pairs first."""
    live = customer_queryset(shop=shop).exclude(search_tokens="")
    groups = (
        live.values("search_tokens")
        .annotate(n=Count("id"), newest=Max("id"))
        .filter(n__gt=1)
        .order_by("-newest")
        .values_list("search_tokens", flat=True)
    )
    dismissed = set(MergeDismissal.objects.for_shop(shop).values_list("first_id", "second_id"))
    found: list[MergeSuggestion] = []
    tokens = list(groups[: max(limit, 1) * 4])
    for start in range(0, len(tokens), GROUP_BATCH):
        batch = tokens[start : start + GROUP_BATCH]
        by_tokens: dict[str, list[Customer]] = {}
        for customer in _with_visits(live.filter(search_tokens__in=batch)).order_by("pk"):
            by_tokens.setdefault(customer.search_tokens, []).append(customer)
        for token in batch:
            for a, b in combinations(by_tokens.get(token, []), 2):
                if (a.pk, b.pk) in dismissed:
                    continue
                if _name_key(a.name) != _name_key(b.name) or not a.phone or not b.phone:
                    continue
                if phone_last4(a.phone) != phone_last4(b.phone):
                    continue
                keep, merge = (b, a) if b.visit_count > a.visit_count else (a, b)
                found.append(MergeSuggestion(keep=keep, merge=merge))
                if len(found) >= limit:
                    return found
    return found


def merge_history(*, shop: Shop, limit: int = 50) -> QuerySet[CustomerMerge]:
    return (
        CustomerMerge.objects.for_shop(shop)
        .select_related("kept", "merged", "merged_by", "undone_by")
        .order_by("-merged_at", "-pk")[:limit]
    )


def merge_get(*, shop: Shop, merge_id: int) -> CustomerMerge:
    return get_object_or_404(CustomerMerge.objects.for_shop(shop), pk=merge_id)


def merge_pair_get(*, shop: Shop, first_id: int, second_id: int) -> tuple[Customer, Customer]:
    """Two current customers of the shop (404 for anyone else's or a merged one)."""
    live = customer_queryset(shop=shop)
    return get_object_or_404(live, pk=first_id), get_object_or_404(live, pk=second_id)
