"""Merging two customers of a shop into one, and undoing it.

Every table that points at a customer is found through the app registry
(``Customer._meta.get_fields(include_hidden=True)``: relations declared with
``related_name="+"`` are hidden from ``related_objects`` and would be missed otherwise), so
this module imports no app above it. Each relation must be listed in ``RELATIONS`` with what a
merge does to its rows; a relation that is not listed stops the merge with ``UnknownRelation``
instead of leaving rows behind.

- ``MOVE``: rows are re-pointed to the kept customer. A row whose move would break a unique
  constraint (the kept customer already has "the one" such row: a current tier, a referral
  code, an open stay in the same segment) stays with the merged customer and is listed in the
  merge record as kept back.
- ``STAY``: rows stay with the merged customer (score snapshots of past runs, the derived
  totals, this app's own merge records). Segments and scores already ignore merged customers.
- ``REFUSE``: a row on either side refuses the merge (an erased customer is not merged).

Consent: the events of the merged customer move with the rest of its history, and the stricter
consent wins. For each kind, if either side's latest event is a refusal, the kept customer ends
with a refusal: a new ``ConsentEvent`` (source "merge", evidence naming both customers) is
appended unless the kept customer's own latest event is already that refusal and nothing newer
came from the other side. A merge never writes a grant. An undo moves the events back but leaves
the refusals the merge wrote: an opt-out is never undone.

The per-customer purchase totals (``sales.CustomerStats``) belong to a higher layer: the caller
rebuilds them for both customers after a merge or an undo (``dangol.web.merge_services``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import Enum
from typing import Any

from django.db import models, transaction
from django.db.models import Q, UniqueConstraint
from django.utils import timezone

from dangol.audit.models import AuditAction
from dangol.audit.services import audit_record
from dangol.customers.models import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    Customer,
    CustomerMerge,
    MergeDismissal,
)
from dangol.shops.models import Shop


class MergeError(ValueError):
    """A merge or an undo that cannot be done; the message is Korean / English."""


class UnknownRelation(RuntimeError):
    """A table points at customers and nobody said what a merge does to its rows."""


class Policy(Enum):
    MOVE = "move"
    STAY = "stay"
    REFUSE = "refuse"


# "app_label.Model.field" of every foreign key to Customer -> what a merge does to its rows.
RELATIONS: dict[str, Policy] = {
    # Customers merged earlier into the merged one now point at the kept one.
    "customers.Customer.merged_into": Policy.MOVE,
    "customers.CustomerIdentity.customer": Policy.MOVE,
    "customers.ConsentEvent.customer": Policy.MOVE,
    "customers.CustomerMerge.kept": Policy.STAY,
    "customers.CustomerMerge.merged": Policy.STAY,
    "customers.MergeDismissal.first": Policy.STAY,
    "customers.MergeDismissal.second": Policy.STAY,
    "sales.Purchase.customer": Policy.MOVE,
    # Derived from purchases: the caller rebuilds both customers' totals.
    "sales.CustomerStats.customer": Policy.STAY,
    # Snapshots of past scoring runs; the next run scores the kept customer on all purchases.
    "scoring.CustomerScore.customer": Policy.STAY,
    "segments.SegmentMembership.customer": Policy.MOVE,
    "messaging.OutboxMessage.customer": Policy.MOVE,
    "loyalty.PointsEntry.customer": Policy.MOVE,
    "loyalty.Coupon.customer": Policy.MOVE,
    "loyalty.StampEntry.customer": Policy.MOVE,
    "loyalty.CustomerTier.customer": Policy.MOVE,
    "loyalty.TierChange.customer": Policy.MOVE,
    "loyalty.Checkin.customer": Policy.MOVE,
    "loyalty.ReferralCode.customer": Policy.MOVE,
    "loyalty.Referral.referrer": Policy.MOVE,
    "loyalty.Referral.referee": Policy.MOVE,
    "privacy.DataSubjectRequest.customer": Policy.MOVE,
    "privacy.Erasure.customer": Policy.REFUSE,
}


def customer_relations() -> dict[str, models.ForeignKey]:
    """Every foreign key to Customer in the project, by "app_label.Model.field"."""
    found: dict[str, models.ForeignKey] = {}
    for rel in Customer._meta.get_fields(include_hidden=True):
        if rel.is_relation and rel.auto_created and not rel.concrete:
            field = rel.field
            found[f"{field.model._meta.label}.{field.name}"] = field
    return found


def _policies() -> list[tuple[str, models.ForeignKey, Policy]]:
    relations = customer_relations()
    unknown = sorted(set(relations) - set(RELATIONS))
    if unknown:
        raise UnknownRelation(
            "A merge does not know what to do with these references to customers: "
            + ", ".join(unknown)
            + ". Add them to dangol.customers.merging.RELATIONS."
        )
    return [(key, field, RELATIONS[key]) for key, field in sorted(relations.items())]


def _rows(field: models.ForeignKey, *, shop: Shop, customer_id: int) -> models.QuerySet:
    model = field.model
    qs = model._base_manager.filter(**{field.attname: customer_id})
    if any(f.name == "shop" for f in model._meta.fields):
        qs = qs.filter(shop_id=shop.pk)
    return qs


def _unique_sets(field: models.ForeignKey) -> list[tuple[list[str], Q | None]]:
    """The unique column sets of the field's table that include the field, with conditions."""
    model = field.model
    sets: list[tuple[list[str], Q | None]] = []
    if field.unique:
        sets.append(([field.name], None))
    for together in model._meta.unique_together:
        if field.name in together:
            sets.append((list(together), None))
    for constraint in model._meta.constraints:
        if not isinstance(constraint, UniqueConstraint):
            continue
        if constraint.expressions:
            raise UnknownRelation(
                f"{model._meta.label}: the unique constraint {constraint.name} uses expressions; "
                "a merge cannot tell whether moving a row breaks it."
            )
        if field.name in constraint.fields:
            sets.append((list(constraint.fields), constraint.condition))
    return sets


def _clashing_ids(field: models.ForeignKey, *, shop: Shop, keep: Customer, merge: Customer) -> set:
    """Rows of ``merge`` that cannot move to ``keep`` without breaking a unique constraint."""
    clashing: set = set()
    for columns, condition in _unique_sets(field):
        others = [c for c in columns if c != field.name]
        attnames = [field.model._meta.get_field(c).attname for c in others]
        keep_rows = _rows(field, shop=shop, customer_id=keep.pk)
        merge_rows = _rows(field, shop=shop, customer_id=merge.pk)
        if condition is not None:
            keep_rows, merge_rows = keep_rows.filter(condition), merge_rows.filter(condition)
        taken = {tuple(row) for row in keep_rows.values_list(*attnames)} if others else set()
        if not others and keep_rows.exists():
            clashing.update(merge_rows.values_list("pk", flat=True))
            continue
        for pk, *values in merge_rows.values_list("pk", *attnames):
            # NULLs never clash in a unique constraint.
            if None not in values and tuple(values) in taken:
                clashing.add(pk)
    return clashing


def _latest_consents(*, shop: Shop, customer_id: int) -> dict[str, ConsentEvent]:
    latest: dict[str, ConsentEvent] = {}
    events = (
        ConsentEvent.objects.for_shop(shop)
        .filter(customer_id=customer_id)
        .order_by("occurred_at", "pk")
    )
    for event in events:
        latest[event.kind] = event
    return latest


def _order(event: ConsentEvent | None) -> tuple[dt.datetime, int] | None:
    return (event.occurred_at, event.pk) if event is not None else None


def _refusals_needed(
    *, keep_latest: dict[str, ConsentEvent], merge_latest: dict[str, ConsentEvent]
) -> list[str]:
    """The kinds for which the kept customer must get a refusal written by the merge."""
    kinds = []
    for kind in ConsentKind.values:
        mine, theirs = keep_latest.get(kind), merge_latest.get(kind)
        refused = any(e is not None and not e.granted for e in (mine, theirs))
        if not refused:
            continue
        mine_refusal_is_latest = (
            mine is not None
            and not mine.granted
            and (theirs is None or _order(mine) >= _order(theirs))
        )
        if not mine_refusal_is_latest:
            kinds.append(kind)
    return kinds


def _lock(*customers: Customer) -> None:
    ids = sorted(c.pk for c in customers)
    list(Customer._base_manager.select_for_update().filter(pk__in=ids).order_by("pk"))


def _check_pair(*, shop: Shop, keep: Customer, merge: Customer) -> None:
    if keep.shop_id != shop.pk or merge.shop_id != shop.pk:
        raise MergeError(
            "다른 매장의 고객은 합칠 수 없습니다 / Customers of another shop cannot be merged."
        )
    if keep.pk == merge.pk:
        raise MergeError(
            "같은 고객끼리는 합칠 수 없습니다 / A customer cannot be merged into itself."
        )
    keep.refresh_from_db(fields=["merged_into"])
    merge.refresh_from_db(fields=["merged_into"])
    if keep.merged_into_id or merge.merged_into_id:
        raise MergeError(
            "이미 다른 고객에 합쳐진 고객입니다 / One of the customers is already merged."
        )


@transaction.atomic
def customer_merge(*, shop: Shop, keep: Customer, merge: Customer, user: Any) -> CustomerMerge:
    """Merge ``merge`` into ``keep``: move its history, keep the stricter consent, record it.

    The caller rebuilds the purchase totals of both customers (a higher layer owns them).
    """
    policies = _policies()
    _lock(keep, merge)
    _check_pair(shop=shop, keep=keep, merge=merge)
    for key, field, policy in policies:
        if policy is Policy.REFUSE and (
            _rows(field, shop=shop, customer_id=keep.pk).exists()
            or _rows(field, shop=shop, customer_id=merge.pk).exists()
        ):
            raise MergeError(
                "삭제(파기)된 고객은 합칠 수 없습니다 / "
                f"An erased customer cannot be merged ({key})."
            )
    keep_latest = _latest_consents(shop=shop, customer_id=keep.pk)
    merge_latest = _latest_consents(shop=shop, customer_id=merge.pk)

    moved: dict[str, list] = {}
    kept_back: dict[str, list] = {}
    for key, field, policy in policies:
        if policy is not Policy.MOVE:
            continue
        clashing = _clashing_ids(field, shop=shop, keep=keep, merge=merge)
        rows = _rows(field, shop=shop, customer_id=merge.pk)
        ids = sorted(rows.exclude(pk__in=clashing).values_list("pk", flat=True))
        if ids:
            field.model._base_manager.filter(pk__in=ids).update(**{field.attname: keep.pk})
            moved[key] = ids
        if clashing:
            kept_back[key] = sorted(clashing)

    now = timezone.now()
    refusals = []
    latest_known = [e.occurred_at for e in (*keep_latest.values(), *merge_latest.values())]
    at = max([now, *latest_known])
    for kind in _refusals_needed(keep_latest=keep_latest, merge_latest=merge_latest):
        refusals.append(
            ConsentEvent(
                shop_id=shop.pk,
                customer=keep,
                kind=kind,
                granted=False,
                source=ConsentSource.MERGE,
                evidence=(
                    f"Customer #{merge.pk} merged into #{keep.pk}; "
                    "the stricter consent (a refusal) is kept"
                ),
                actor=user if getattr(user, "is_authenticated", False) else None,
                occurred_at=at,
            )
        )
    for event in refusals:
        event.save()

    Customer._base_manager.filter(pk=merge.pk).update(merged_into=keep.pk)
    merge.merged_into = keep
    record = CustomerMerge.objects.for_shop(shop).create(
        shop=shop,
        kept=keep,
        merged=merge,
        moved=moved,
        kept_back=kept_back,
        consent_events=[e.pk for e in refusals],
        merged_by=user if getattr(user, "is_authenticated", False) else None,
        merged_at=now,
    )
    for customer in (keep, merge):
        audit_record(
            shop=shop,
            user=user,
            action=AuditAction.CHANGE,
            object_type="customer_merge",
            object_id=record.pk,
            customer_id=customer.pk,
            rows=sum(len(ids) for ids in moved.values()),
            reason=f"merge #{merge.pk} into #{keep.pk}",
        )
    return record


@transaction.atomic
def customer_unmerge(*, shop: Shop, merge_record: CustomerMerge, user: Any) -> CustomerMerge:
    """Undo a merge: every moved row goes back to the merged customer, which comes back.

    The refusals the merge wrote stay on the kept customer. Rows added to the kept customer
    after the merge (new purchases) stay with it. The caller rebuilds both customers' totals.
    """
    if merge_record.shop_id != shop.pk:
        raise MergeError("다른 매장의 기록입니다 / This merge belongs to another shop.")
    record = CustomerMerge._base_manager.select_for_update().get(pk=merge_record.pk)
    if record.undone_at is not None:
        raise MergeError("이미 되돌린 합치기입니다 / This merge was already undone.")
    keep = Customer._base_manager.get(pk=record.kept_id)
    merge = Customer._base_manager.get(pk=record.merged_id)
    _lock(keep, merge)
    if keep.merged_into_id is not None:
        raise MergeError(
            "합쳐 둔 고객이 그 뒤 다른 고객에 합쳐졌습니다. 나중 합치기를 먼저 되돌리세요 / "
            "The kept customer was merged again later: undo that merge first."
        )
    if merge.merged_into_id != keep.pk:
        raise MergeError("합치기 상태가 기록과 다릅니다 / The customers changed since the merge.")
    relations = customer_relations()
    for key, ids in record.moved.items():
        field = relations.get(key)
        if field is None:
            raise UnknownRelation(f"{key} no longer exists; the merge cannot be undone.")
        rows = field.model._base_manager.filter(pk__in=ids)
        if rows.exclude(**{field.attname: keep.pk}).exists():
            raise MergeError(
                "합친 뒤 옮겨진 기록이 있어 되돌릴 수 없습니다 / "
                f"Rows moved since the merge ({key}); it cannot be undone."
            )
        rows.update(**{field.attname: merge.pk})
    Customer._base_manager.filter(pk=merge.pk).update(merged_into=None)
    record.undone_at = timezone.now()
    record.undone_by = user if getattr(user, "is_authenticated", False) else None
    record.save(update_fields=["undone_at", "undone_by"])
    for customer in (keep, merge):
        audit_record(
            shop=shop,
            user=user,
            action=AuditAction.CHANGE,
            object_type="customer_unmerge",
            object_id=record.pk,
            customer_id=customer.pk,
            rows=sum(len(ids) for ids in record.moved.values()),
            reason=f"undo merge #{record.pk}",
        )
    return record


def merge_moved_count(record: CustomerMerge, keys: Iterable[str] | None = None) -> int:
    """How many rows a merge moved (of these relations, or of all)."""
    return sum(len(ids) for key, ids in record.moved.items() if keys is None or key in keys)


@transaction.atomic
def merge_dismissal_create(
    *, shop: Shop, first: Customer, second: Customer, user: Any
) -> MergeDismissal:
    """Remember that two customers are not the same person: the pair is not suggested again."""
    if first.shop_id != shop.pk or second.shop_id != shop.pk:
        raise MergeError("다른 매장의 고객입니다 / Customers of another shop.")
    if first.pk == second.pk:
        raise MergeError("같은 고객입니다 / The same customer twice.")
    low, high = sorted((first, second), key=lambda c: c.pk)
    dismissal, _ = MergeDismissal.objects.for_shop(shop).get_or_create(
        shop=shop,
        first=low,
        second=high,
        defaults={"dismissed_by": user if getattr(user, "is_authenticated", False) else None},
    )
    return dismissal
