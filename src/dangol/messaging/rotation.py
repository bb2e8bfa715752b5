"""Moving opt-out suppressions to the primary blind-index key.

A suppression stores only the keyed hash of the address, so it can be recomputed only for an
address the shop still knows: the phones and e-mails of its customers. Those are re-hashed a
batch of customers at a time; a suppression whose address is known nowhere keeps its old
hash, is counted as ``unknown`` by the status, and stays effective because the dispatcher
queries every configured key — which is why the old key must stay listed while any remain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from dangol.core.crypto import blind_indexes
from dangol.customers.models import Customer
from dangol.messaging.models import Suppression

Progress = Callable[[str, int, int], None]

LABEL = "messaging.suppression/indexes"


@dataclass(frozen=True)
class SuppressionStatus:
    current: int
    stale: int
    unknown: int


def _hashes(customers: list[Customer]) -> dict[tuple[int, str], list[str]]:
    """(shop, hash under any key) → the address's hashes under every key, primary first."""
    out: dict[tuple[int, str], list[str]] = {}
    for customer in customers:
        for address in (customer.phone, customer.email):
            if not address:
                continue
            keyed = blind_indexes(
                address.strip().casefold(), purpose="suppression", shop_id=customer.shop_id
            )
            for value in keyed:
                out[(customer.shop_id, value)] = keyed
    return out


def _customer_batches(batch_size: int):
    last = 0
    while True:
        batch = list(
            Customer.unscoped.filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "shop_id", "phone", "email")[:batch_size]
        )
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def suppression_index_status(*, batch_size: int = 1000) -> SuppressionStatus:
    known: dict[tuple[int, str], list[str]] = {}
    for batch in _customer_batches(batch_size):
        known.update(_hashes(batch))
    current = stale = unknown = 0
    for shop_id, value in Suppression.unscoped.values_list("shop_id", "address_bidx"):
        keyed = known.get((shop_id, value))
        if keyed is None:
            unknown += 1
        elif keyed[0] == value:
            current += 1
        else:
            stale += 1
    return SuppressionStatus(current=current, stale=stale, unknown=unknown)


def suppression_indexes_rotate(*, batch_size: int = 1000, progress: Progress | None = None) -> int:
    """Re-hash the suppressions of known addresses under the primary key; returns rows moved."""
    total = Customer.unscoped.count()
    seen = moved = 0
    if progress:
        progress(LABEL, 0, total)
    for batch in _customer_batches(batch_size):
        known = _hashes(batch)
        old = {
            (shop, value): keyed[0] for (shop, value), keyed in known.items() if keyed[0] != value
        }
        if old:
            moved += _move(old)
        seen += len(batch)
        if progress:
            progress(LABEL, min(seen, total), total)
    return moved


def _move(old: dict[tuple[int, str], str]) -> int:
    moved = 0
    shops = {shop for shop, _ in old}
    with transaction.atomic():
        rows = list(
            Suppression.unscoped.select_for_update().filter(
                shop_id__in=shops, address_bidx__in={value for _, value in old}
            )
        )
        for row in rows:
            new = old.get((row.shop_id, row.address_bidx))
            if new is None:
                continue
            # An opt-out recorded again during the rotation already has a row under the new
            # key; the older row is kept (its date is the evidence) and the twin dropped.
            Suppression.unscoped.filter(
                shop_id=row.shop_id, address_bidx=new, channel=row.channel
            ).delete()
            row.address_bidx = new
            row.save(update_fields=["address_bidx"])
            moved += 1
    return moved
