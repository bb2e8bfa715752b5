"""Recomputing customers' blind indexes and search tokens under the primary blind-index key.

While ``DANGOL_BLIND_INDEX_KEY`` holds ``new,old``, look-ups query every key (selectors), new
rows are indexed under the new key, and this walk rewrites the rest from the decrypted values,
one short transaction per batch. A row whose indexes already match is left alone, so the walk
can be interrupted and run again; once it reports nothing stale the old key can be dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import transaction

from dangol.customers.models import Customer, CustomerIdentity, IdentityKind
from dangol.customers.search import search_tokens_for
from dangol.customers.services import email_blind_index, phone_blind_index

Progress = Callable[[str, int, int], None]

_INDEXED = ("phone_bidx", "email_bidx", "search_tokens")
LABEL = "customers.customer/indexes"


@dataclass(frozen=True)
class IndexStatus:
    current: int
    stale: int


def _fresh(customer: Customer) -> tuple[str, str, str]:
    shop_id = customer.shop_id
    return (
        phone_blind_index(shop_id=shop_id, phone_e164=customer.phone) if customer.phone else "",
        email_blind_index(shop_id=shop_id, email=customer.email) if customer.email else "",
        search_tokens_for(shop_id=shop_id, name=customer.name, phone_e164=customer.phone),
    )


def _batches(*, batch_size: int, lock: bool) -> Iterator[list[Customer]]:
    last = 0
    while True:
        with transaction.atomic():
            qs = Customer.unscoped.filter(pk__gt=last).order_by("pk")
            if lock:
                qs = qs.select_for_update()
            fields = ("pk", "shop_id", "name", "phone", "email", *_INDEXED)
            batch = list(qs.only(*fields)[:batch_size])
            if not batch:
                return
            yield batch
        last = batch[-1].pk


def customer_index_status(*, batch_size: int = 1000) -> IndexStatus:
    current = stale = 0
    for batch in _batches(batch_size=batch_size, lock=False):
        for customer in batch:
            if _fresh(customer) == tuple(getattr(customer, f) for f in _INDEXED):
                current += 1
            else:
                stale += 1
    return IndexStatus(current=current, stale=stale)


def _move_identities(moves: dict[tuple[int, str, str], str]) -> None:
    """Identities follow their customer's index: (customer, kind, old index) → new index."""
    customer_ids = {customer_id for customer_id, _, _ in moves}
    identities = list(CustomerIdentity.unscoped.filter(customer_id__in=customer_ids))
    changed = []
    for identity in identities:
        new = moves.get((identity.customer_id, identity.kind, identity.value_bidx))
        if new is not None:
            identity.value_bidx = new
            changed.append(identity)
    CustomerIdentity.unscoped.bulk_update(changed, ["value_bidx"])


def customer_indexes_rotate(*, batch_size: int = 1000, progress: Progress | None = None) -> int:
    """Rewrite every stale customer index under the primary key; returns the rows changed."""
    total = Customer.unscoped.count()
    seen = changed_rows = 0
    if progress:
        progress(LABEL, 0, total)
    for batch in _batches(batch_size=batch_size, lock=True):
        changed: list[Customer] = []
        moves: dict[tuple[int, str, str], str] = {}
        for customer in batch:
            phone, email, tokens = _fresh(customer)
            if (phone, email, tokens) == tuple(getattr(customer, f) for f in _INDEXED):
                continue
            if customer.phone_bidx and phone != customer.phone_bidx:
                moves[(customer.pk, IdentityKind.PHONE, customer.phone_bidx)] = phone
            if customer.email_bidx and email != customer.email_bidx:
                moves[(customer.pk, IdentityKind.EMAIL, customer.email_bidx)] = email
            customer.phone_bidx, customer.email_bidx, customer.search_tokens = phone, email, tokens
            changed.append(customer)
        if changed:
            Customer.unscoped.bulk_update(changed, list(_INDEXED))
            _move_identities(moves)
        seen += len(batch)
        changed_rows += len(changed)
        if progress:
            progress(LABEL, min(seen, total), total)
    return changed_rows
