"""Merging customers from the owner's pages: the merge itself and the totals it changes.

Where this lives, and why: the merge (``dangol.customers.merging``) sits in the customers app,
low in the layers, and moves the rows of every app through the app registry without importing
them. The per-customer purchase totals (``CustomerStats``) are owned by ``dangol.sales``, one
layer above, so the customers app cannot rebuild them. This module, in the web layer, calls both
in one transaction: the merge (or undo), then ``customer_stats_rebuild`` for the two customers.
Another entry point (the CLI, the API) that merges customers calls the same two services in the
same order.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dangol.customers.merging import customer_merge, customer_unmerge
from dangol.customers.models import Customer, CustomerMerge
from dangol.sales.services import customer_stats_rebuild
from dangol.shops.models import Shop


@transaction.atomic
def customer_merge_with_totals(
    *, shop: Shop, keep: Customer, merge: Customer, user: Any
) -> CustomerMerge:
    record = customer_merge(shop=shop, keep=keep, merge=merge, user=user)
    customer_stats_rebuild(shop=shop, customer_ids=[keep.pk, merge.pk])
    return record


@transaction.atomic
def customer_unmerge_with_totals(
    *, shop: Shop, merge_record: CustomerMerge, user: Any
) -> CustomerMerge:
    record = customer_unmerge(shop=shop, merge_record=merge_record, user=user)
    customer_stats_rebuild(shop=shop, customer_ids=[record.kept_id, record.merged_id])
    return record
