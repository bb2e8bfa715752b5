"""Points (writes): the append-only ledger — earn, redeem, adjust, bonus, refund, expire.

Every credit is a lot with its own expiry, fixed when it is earned under the policy version of
that moment (``policies.py``). Every debit (redeem, expire, negative adjustment, refund reversal)
records which lots it took from (allocations), first to expire first (``ledger.py``). So:

- the balance is the sum of the open lots; nothing stores it;
- expiry only ever takes what is still open in an expired lot: spent points never expire;
- a refund takes back what its purchase earned (less what of it already expired), first from the
  purchase's own lot; if the customer already spent those points, the shortfall is a debt that
  the next credits settle before anything else.

Writes that take from lots lock the customer's row, so two redemptions never spend one lot twice
(PostgreSQL: ``SELECT … FOR UPDATE``; SQLite: one writer at a time).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from dangol.audit.models import AuditAction
from dangol.audit.services import audit_record
from dangol.customers.models import Customer
from dangol.loyalty.errors import PointsError
from dangol.loyalty.ledger import (
    check_points,
    credit_lot,
    lock_customer,
    settle_debts,
    take_from_lots,
)
from dangol.loyalty.models import EntryKind, PointsAllocation, PointsEntry, PointsPolicy
from dangol.loyalty.policies import (
    LineFacts,
    PolicyInput,
    int_in,
    points_expiry_for,
    points_for_purchase,
    points_policy_create,
)
from dangol.loyalty.selectors import points_lots, points_open_lots
from dangol.sales.models import Purchase, PurchaseLine, PurchaseStatus
from dangol.shops.models import Membership, Role, Shop

# Policies moved to policies.py; importing them from here keeps working.
__all__ = [
    "PolicyInput",
    "points_adjust",
    "points_bonus",
    "points_earn_for_purchases",
    "points_expire",
    "points_policy_create",
    "points_redeem",
    "points_reverse_for_purchase",
]

# Adjustments above this (or any negative one) need the owner.
ABSURD_ADJUSTMENT = 100_000
EXPIRY_CHUNK = 500


def _purchases_of(*, shop: Shop, purchase_ids: Sequence[int]) -> list[Purchase]:
    ids = sorted({int(i) for i in purchase_ids})
    found = list(Purchase.unscoped.filter(shop_id=shop.pk, pk__in=ids))
    if len(found) != len(ids):
        raise PointsError(
            "foreign_purchase", "이 매장의 구매가 아닙니다", "A purchase is not this shop's."
        )
    return found


def _tier_multipliers(*, shop: Shop, customer_ids: Sequence[int]) -> dict[int, int]:
    from dangol.loyalty.tiers import tier_earn_multipliers

    return tier_earn_multipliers(shop=shop, customer_ids=customer_ids)


@transaction.atomic
def points_earn_for_purchases(
    *, shop: Shop, purchase_ids: Sequence[int], now: dt.datetime | None = None
) -> int:
    """Earn points for paid purchases of known customers, under the policy version in force
    when each purchase happened. Idempotent: a purchase earns once. Returns lots written."""
    now = now or timezone.now()
    purchases = [
        p
        for p in _purchases_of(shop=shop, purchase_ids=purchase_ids)
        if p.status == PurchaseStatus.PAID and p.customer_id is not None
    ]
    done = set(
        PointsEntry.objects.for_shop(shop)
        .filter(kind=EntryKind.EARN, purchase_id__in=[p.pk for p in purchases])
        .values_list("purchase_id", flat=True)
    )
    purchases = [p for p in purchases if p.pk not in done]
    if not purchases:
        return 0
    policies = list(PointsPolicy.objects.for_shop(shop).order_by("effective_from", "version"))
    if not policies:
        return 0
    lines: dict[int, list[LineFacts]] = defaultdict(list)
    for pid, product_id, category, qty in (
        PurchaseLine.objects.for_shop(shop)
        .filter(purchase_id__in=[p.pk for p in purchases])
        .values_list("purchase_id", "product_id", "product__category", "quantity")
    ):
        lines[pid].append(LineFacts(product_id, category or "", qty))
    tiers = _tier_multipliers(shop=shop, customer_ids=sorted({p.customer_id for p in purchases}))
    rows = []
    for purchase in purchases:
        policy = None
        for candidate in policies:
            if candidate.effective_from <= purchase.occurred_at:
                policy = candidate
        if policy is None:
            continue
        points = points_for_purchase(
            policy=policy,
            total=purchase.total,
            occurred_at=purchase.occurred_at,
            lines=lines[purchase.pk],
            tier_pct=tiers.get(purchase.customer_id, 100),
        )
        if points <= 0:
            continue
        rows.append(
            PointsEntry(
                shop=shop,
                customer_id=purchase.customer_id,
                kind=EntryKind.EARN,
                points=points,
                occurred_at=purchase.occurred_at,
                expires_at=points_expiry_for(policy=policy, earned_at=purchase.occurred_at),
                policy=policy,
                purchase=purchase,
                created_at=now,
            )
        )
    # A concurrent call for the same purchase loses on the unique constraint, silently.
    PointsEntry.objects.for_shop(shop).bulk_create(rows, ignore_conflicts=True)
    settle_debts(shop=shop, customer_ids={r.customer_id for r in rows}, now=now)
    return len(rows)


@transaction.atomic
def points_redeem(
    *,
    shop: Shop,
    customer: Customer,
    points: int,
    purchase: Purchase | None = None,
    user: Any = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> PointsEntry:
    """Spend points, oldest expiry first. Refused if the balance is short."""
    now = now or timezone.now()
    check_points(points)
    if purchase is not None and (
        purchase.shop_id != shop.pk or purchase.customer_id != getattr(customer, "pk", None)
    ):
        raise PointsError(
            "foreign_purchase", "이 고객의 구매가 아닙니다", "Purchase is not this customer's."
        )
    lock_customer(shop=shop, customer=customer)
    lots = points_open_lots(shop=shop, customer=customer, now=now)
    return take_from_lots(
        shop=shop,
        customer_id=customer.pk,
        kind=EntryKind.REDEEM,
        amount=points,
        lots=lots,
        occurred_at=now,
        purchase=purchase,
        reason=(reason or "").strip()[:300],
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def _role(*, shop: Shop, user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.for_shop(shop).filter(user=user).values_list("role", flat=True).first()
    )


@transaction.atomic
def points_adjust(
    *,
    shop: Shop,
    customer: Customer,
    points: int,
    reason: str,
    user: Any,
    now: dt.datetime | None = None,
) -> PointsEntry:
    """A manual correction. Always needs a member and a reason; a negative or very large one
    needs the owner. Every adjustment is written to the audit log."""
    now = now or timezone.now()
    check_points(points, allow_negative=True)
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise PointsError(
            "reason_required", "조정 사유를 적어 주세요", "An adjustment needs a reason."
        )
    role = _role(shop=shop, user=user)
    if role is None:
        raise PointsError(
            "not_a_member",
            "이 매장의 직원만 조정할 수 있습니다",
            "Only the shop's staff can adjust.",
        )
    if (points < 0 or points > ABSURD_ADJUSTMENT) and role != Role.OWNER:
        raise PointsError(
            "owner_required",
            "차감이나 큰 조정은 대표만 할 수 있습니다",
            "Only the owner can deduct points or adjust by a large amount.",
        )
    lock_customer(shop=shop, customer=customer)
    common = {"reason": reason[:300], "created_by": user}
    if points > 0:
        entry = credit_lot(
            shop=shop,
            customer=customer,
            kind=EntryKind.ADJUST,
            points=points,
            occurred_at=now,
            now=now,
            **common,
        )
    else:
        entry = take_from_lots(
            shop=shop,
            customer_id=customer.pk,
            kind=EntryKind.ADJUST,
            amount=-points,
            lots=points_open_lots(shop=shop, customer=customer, now=now),
            occurred_at=now,
            **common,
        )
    audit_record(
        shop=shop,
        user=user,
        action=AuditAction.CHANGE,
        object_type="points",
        object_id=entry.pk,
        customer_id=customer.pk,
        reason=f"{points:+d}: {reason}",
    )
    return entry


@transaction.atomic
def points_bonus(
    *,
    shop: Shop,
    customer: Customer,
    points: int,
    reason: str,
    now: dt.datetime | None = None,
) -> PointsEntry:
    """Points the shop's own rules give (a referral, a tier perk): a lot like an earned one."""
    now = now or timezone.now()
    check_points(points)
    lock_customer(shop=shop, customer=customer)
    return credit_lot(
        shop=shop,
        customer=customer,
        kind=EntryKind.BONUS,
        points=points,
        occurred_at=now,
        now=now,
        reason=(reason or "").strip()[:300],
    )


REFUNDED = (PurchaseStatus.REFUNDED, PurchaseStatus.CANCELLED)


@transaction.atomic
def points_reverse_for_purchase(
    *,
    shop: Shop,
    purchase: Purchase,
    refunded_amount: int | None = None,
    now: dt.datetime | None = None,
) -> PointsEntry | None:
    """Take back the points a refunded purchase earned: all of them for a refund or a
    cancellation, the refunded share for a partial refund (cumulative, never more than earned).
    What of the lot already expired is not taken twice. Idempotent."""
    now = now or timezone.now()
    if purchase is None or purchase.shop_id != shop.pk:
        raise PointsError(
            "foreign_purchase", "이 매장의 구매가 아닙니다", "Purchase is not this shop's."
        )
    purchase = Purchase.unscoped.get(pk=purchase.pk)
    if purchase.status == PurchaseStatus.PARTIALLY_REFUNDED:
        if not (int_in(refunded_amount, 1, max(purchase.total, 1))):
            raise PointsError(
                "invalid_amount",
                "환불 금액은 1원 이상 구매 금액 이하여야 합니다",
                "The refunded amount must be between 1 and the purchase total.",
            )
    elif purchase.status not in REFUNDED:
        raise PointsError(
            "not_refunded", "환불된 구매가 아닙니다", "The purchase has not been refunded."
        )
    lot = (
        PointsEntry.objects.for_shop(shop)
        .filter(kind=EntryKind.EARN, purchase_id=purchase.pk)
        .first()
    )
    if lot is None:
        return None
    customer = Customer.unscoped.get(pk=lot.customer_id)
    lock_customer(shop=shop, customer=customer)
    expired = sum(
        PointsAllocation.objects.for_shop(shop)
        .filter(lot=lot, debit__kind=EntryKind.EXPIRE)
        .values_list("points", flat=True)
    )
    reversed_ = -sum(
        PointsEntry.objects.for_shop(shop)
        .filter(kind=EntryKind.REFUND, purchase_id=purchase.pk)
        .values_list("points", flat=True)
    )
    target = lot.points
    if purchase.status == PurchaseStatus.PARTIALLY_REFUNDED:
        target = lot.points * refunded_amount // max(purchase.total, 1)
    due = min(target, lot.points - expired) - reversed_
    if due <= 0:
        return None
    own = list(points_lots(shop=shop, customer_ids=[customer.pk]).filter(pk=lot.pk, open__gt=0))
    others = [x for x in points_open_lots(shop=shop, customer=customer, now=now) if x.pk != lot.pk]
    return take_from_lots(
        shop=shop,
        customer_id=customer.pk,
        kind=EntryKind.REFUND,
        amount=due,
        lots=own + others,
        occurred_at=now,
        allow_debt=True,
        purchase=purchase,
        reason="refund",
    )


@transaction.atomic
def points_expire(
    *, shop: Shop, now: dt.datetime | None = None, customer_ids: Sequence[int] | None = None
) -> int:
    """Expire what is still open in every lot whose time has come; returns points expired.
    Idempotent: a lot with nothing open is left alone."""
    now = now or timezone.now()
    due = PointsEntry.objects.for_shop(shop).filter(points__gt=0, expires_at__lte=now)
    if customer_ids is not None:
        due = due.filter(customer_id__in=list(customer_ids))
    owners = sorted(set(due.values_list("customer_id", flat=True)))
    total = 0
    for start in range(0, len(owners), EXPIRY_CHUNK):
        chunk = owners[start : start + EXPIRY_CHUNK]
        list(
            Customer.unscoped.select_for_update()
            .filter(shop_id=shop.pk, pk__in=chunk)
            .values_list("pk", flat=True)
        )
        lots = list(
            points_lots(shop=shop, customer_ids=chunk)
            .filter(open__gt=0, expires_at__lte=now)
            .order_by("pk")
        )
        debits = PointsEntry.objects.for_shop(shop).bulk_create(
            [
                PointsEntry(
                    shop=shop,
                    customer_id=lot.customer_id,
                    kind=EntryKind.EXPIRE,
                    points=-lot.open,
                    occurred_at=lot.expires_at,
                    policy_id=lot.policy_id,
                    created_at=now,
                )
                for lot in lots
            ]
        )
        PointsAllocation.objects.for_shop(shop).bulk_create(
            [
                PointsAllocation(shop=shop, debit=debit, lot=lot, points=lot.open)
                for debit, lot in zip(debits, lots, strict=True)
            ]
        )
        total += sum(lot.open for lot in lots)
    return total
