"""Points (writes): versioned earn policies and the append-only ledger.

Every credit is a lot with its own expiry, fixed when it is earned under the policy version of
that moment. Every debit (redeem, expire, negative adjustment, refund reversal) records which
lots it took from (allocations), first to expire first. So:

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from dangol.audit.models import AuditAction
from dangol.audit.services import audit_record
from dangol.customers.models import Customer
from dangol.loyalty.errors import PointsError
from dangol.loyalty.models import EntryKind, PointsAllocation, PointsEntry, PointsPolicy
from dangol.loyalty.selectors import (
    points_lots,
    points_open_lots,
    points_policy_at,
    points_unsettled_debits,
)
from dangol.sales.models import Purchase, PurchaseLine, PurchaseStatus
from dangol.shops.models import Membership, Role, Shop

# No single entry may move more than this; a typo of a few zeros is refused outright.
MAX_POINTS = 10_000_000
# Adjustments above this (or any negative one) need the owner.
ABSURD_ADJUSTMENT = 100_000
MAX_RATE_BP = 5_000  # 50 % of the amount
MAX_MULTIPLIER_PCT = 1_000  # x10
MAX_VALIDITY_MONTHS = 120
EXPIRY_CHUNK = 500


# --- policies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyInput:
    earn_rate_bp: int = 0
    points_per_visit: int = 0
    min_amount: int = 0
    item_rules: Sequence[dict[str, Any]] = field(default_factory=tuple)
    promotions: Sequence[dict[str, Any]] = field(default_factory=tuple)
    validity_months: int = 12


def _bad_policy(ko: str, en: str) -> PointsError:
    return PointsError("invalid_policy", ko, en)


def _int_in(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _clean_item_rules(*, shop: Shop, rules: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    from dangol.sales.models import Product

    out: list[dict[str, Any]] = []
    for rule in rules:
        points = rule.get("points")
        if not _int_in(points, 1, 100_000):
            raise _bad_policy("품목 적립은 1~100,000점", "Item points must be 1 to 100,000.")
        if rule.get("product_id") is not None:
            pid = rule["product_id"]
            if not Product.objects.for_shop(shop).filter(pk=pid).exists():
                raise _bad_policy("이 매장의 상품이 아닙니다", "Product is not this shop's.")
            out.append({"product_id": int(pid), "points": points})
        elif isinstance(rule.get("category"), str) and rule["category"].strip():
            out.append({"category": rule["category"].strip(), "points": points})
        else:
            raise _bad_policy(
                "상품이나 분류를 고르세요", "An item rule needs a product or category."
            )
    return out


def _parse_day(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise _bad_policy("날짜 형식이 잘못됐습니다", f"Bad date {value!r}.") from exc


def _clean_promotions(promotions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for promo in promotions:
        multiplier = promo.get("multiplier_pct")
        if not _int_in(multiplier, 100, MAX_MULTIPLIER_PCT):
            raise _bad_policy("배수는 100~1000%", "A multiplier must be 100 to 1000 %.")
        weekdays = promo.get("weekdays", list(range(7)))
        if not weekdays or not all(_int_in(d, 0, 6) for d in weekdays):
            raise _bad_policy("요일이 잘못됐습니다", "Weekdays must be 0 (Mon) to 6 (Sun).")
        start, end = promo.get("start_hour", 0), promo.get("end_hour", 24)
        if not (_int_in(start, 0, 23) and _int_in(end, 1, 24) and start < end):
            raise _bad_policy("시간대가 잘못됐습니다", "Hours must satisfy 0 ≤ start < end ≤ 24.")
        starts_on, ends_on = _parse_day(promo.get("starts_on")), _parse_day(promo.get("ends_on"))
        if starts_on and ends_on and starts_on > ends_on:
            raise _bad_policy("기간이 거꾸로입니다", "The promotion ends before it starts.")
        out.append(
            {
                "name": str(promo.get("name", ""))[:60],
                "multiplier_pct": multiplier,
                "weekdays": sorted(set(weekdays)),
                "start_hour": start,
                "end_hour": end,
                "starts_on": starts_on,
                "ends_on": ends_on,
            }
        )
    return out


@transaction.atomic
def points_policy_create(
    *,
    shop: Shop,
    data: PolicyInput,
    user: Any = None,
    effective_from: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> PointsPolicy:
    """A new policy version. It applies to points earned from ``effective_from`` on (now by
    default, never in the past): lots earned before keep their amounts and expiry."""
    now = now or timezone.now()
    effective_from = effective_from or now
    if effective_from.tzinfo is None:
        raise _bad_policy("시간대가 없는 시각", "Naive effective time.")
    if effective_from < now:
        raise PointsError(
            "retroactive_policy",
            "정책은 과거로 소급할 수 없습니다",
            "A policy cannot start in the past.",
        )
    if not _int_in(data.earn_rate_bp, 0, MAX_RATE_BP):
        raise _bad_policy("적립률은 0~50%", "Earn rate must be 0 to 5000 basis points.")
    if not _int_in(data.points_per_visit, 0, 100_000):
        raise _bad_policy("방문 적립은 0~100,000점", "Visit points must be 0 to 100,000.")
    if not _int_in(data.min_amount, 0, 10**9):
        raise _bad_policy("최소 금액이 잘못됐습니다", "Minimum amount must be 0 or more.")
    if not _int_in(data.validity_months, 1, MAX_VALIDITY_MONTHS):
        raise _bad_policy("유효기간은 1~120개월", "Validity must be 1 to 120 months.")
    item_rules = _clean_item_rules(shop=shop, rules=data.item_rules)
    promotions = _clean_promotions(data.promotions)
    # Serialise version numbers per shop.
    Shop.objects.select_for_update().filter(pk=shop.pk).values_list("pk").first()
    latest = PointsPolicy.objects.for_shop(shop).order_by("-version").first()
    if latest is not None and effective_from < latest.effective_from:
        raise PointsError(
            "retroactive_policy",
            "이전 버전보다 앞선 날짜로 만들 수 없습니다",
            "A policy cannot start before the previous version.",
        )
    return PointsPolicy.objects.for_shop(shop).create(
        shop=shop,
        version=(latest.version + 1) if latest else 1,
        effective_from=effective_from,
        earn_rate_bp=data.earn_rate_bp,
        points_per_visit=data.points_per_visit,
        min_amount=data.min_amount,
        item_rules=item_rules,
        promotions=promotions,
        validity_months=data.validity_months,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        created_at=now,
    )


def points_expiry_for(*, policy: PointsPolicy | None, earned_at: dt.datetime) -> dt.datetime:
    """Points earned on a (Seoul) day D are usable through D + validity; they expire at the
    start of the next day."""
    months = policy.validity_months if policy else 12
    day = timezone.localtime(earned_at).date() + relativedelta(months=months) + dt.timedelta(1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class LineFacts:
    product_id: int | None
    category: str
    quantity: int


def _promotion_pct(policy: PointsPolicy, at: dt.datetime) -> int:
    local = timezone.localtime(at)
    best = 100
    for promo in policy.promotions:
        day = local.date().isoformat()
        if promo.get("starts_on") and day < promo["starts_on"]:
            continue
        if promo.get("ends_on") and day > promo["ends_on"]:
            continue
        if local.weekday() not in promo["weekdays"]:
            continue
        if not promo["start_hour"] <= local.hour < promo["end_hour"]:
            continue
        best = max(best, promo["multiplier_pct"])
    return best


def points_for_purchase(
    *,
    policy: PointsPolicy,
    total: int,
    occurred_at: dt.datetime,
    lines: Sequence[LineFacts],
    tier_pct: int = 100,
) -> int:
    """What one paid purchase earns: percent of the amount + per visit + per item, times the
    tier multiplier and the best matching promotion. Whole points, rounded down."""
    if total < policy.min_amount or total <= 0:
        return 0
    base = total * policy.earn_rate_bp // 10_000 + policy.points_per_visit
    for line in lines:
        for rule in policy.item_rules:
            if ("product_id" in rule and rule["product_id"] == line.product_id) or (
                "category" in rule and rule["category"] == line.category
            ):
                base += rule["points"] * line.quantity
                break
    points = base * tier_pct * _promotion_pct(policy, occurred_at) // 10_000
    return min(points, MAX_POINTS)


# --- the ledger -----------------------------------------------------------------------------


def _lock_customer(*, shop: Shop, customer: Customer) -> None:
    """Serialise writes that take from this customer's lots; refuse another shop's customer."""
    if customer is None or customer.shop_id != shop.pk:
        raise PointsError(
            "foreign_customer", "이 매장의 고객이 아닙니다", "Customer is not this shop's."
        )
    Customer.unscoped.select_for_update().filter(shop_id=shop.pk, pk=customer.pk).values_list(
        "pk"
    ).first()


def _check_points(points: Any, *, allow_negative: bool = False) -> int:
    ok = isinstance(points, int) and not isinstance(points, bool)
    if ok and allow_negative:
        ok = points != 0 and abs(points) <= MAX_POINTS
    elif ok:
        ok = 0 < points <= MAX_POINTS
    if not ok:
        raise PointsError(
            "invalid_points",
            "포인트는 1 이상 10,000,000 이하의 정수여야 합니다",
            "Points must be a whole number from 1 to 10,000,000.",
        )
    return points


def _insufficient(available: int, wanted: int) -> PointsError:
    return PointsError(
        "insufficient_points",
        f"포인트가 부족합니다 (보유 {available:,}점, 요청 {wanted:,}점)",
        f"Not enough points ({available:,} available, {wanted:,} asked).",
    )


def _take(
    *,
    shop: Shop,
    customer_id: int,
    kind: str,
    amount: int,
    lots: Sequence[PointsEntry],
    occurred_at: dt.datetime,
    allow_debt: bool = False,
    **fields: Any,
) -> PointsEntry:
    """Write one debit of ``amount`` points, taking from ``lots`` in order."""
    plan: list[tuple[PointsEntry, int]] = []
    left = amount
    for lot in lots:
        if left == 0:
            break
        part = min(lot.open, left)
        if part > 0:
            plan.append((lot, part))
            left -= part
    if left and not allow_debt:
        raise _insufficient(amount - left, amount)
    debit = PointsEntry.objects.for_shop(shop).create(
        shop=shop,
        customer_id=customer_id,
        kind=kind,
        points=-amount,
        occurred_at=occurred_at,
        **fields,
    )
    PointsAllocation.objects.for_shop(shop).bulk_create(
        [PointsAllocation(shop=shop, debit=debit, lot=lot, points=part) for lot, part in plan]
    )
    return debit


def _settle_debts(*, shop: Shop, customer_ids: Iterable[int], now: dt.datetime) -> int:
    """Let new credits pay what refunds of spent points left owing. Returns points settled."""
    debits = list(points_unsettled_debits(shop=shop, customer_ids=list(customer_ids)))
    if not debits:
        return 0
    by_customer: dict[int, list[PointsEntry]] = defaultdict(list)
    for debit in debits:
        by_customer[debit.customer_id].append(debit)
    lots = (
        points_lots(shop=shop, customer_ids=list(by_customer))
        .filter(open__gt=0, expires_at__gt=now)
        .order_by("expires_at", "pk")
    )
    open_lots: dict[int, list[list[Any]]] = defaultdict(list)
    for lot in lots:
        open_lots[lot.customer_id].append([lot, lot.open])
    rows, settled = [], 0
    for customer_id, owed in by_customer.items():
        pool = open_lots.get(customer_id, [])
        for debit in owed:
            need = debit.owed
            for slot in pool:
                if need == 0:
                    break
                part = min(slot[1], need)
                if part:
                    rows.append(PointsAllocation(shop=shop, debit=debit, lot=slot[0], points=part))
                    slot[1] -= part
                    need -= part
                    settled += part
    PointsAllocation.objects.for_shop(shop).bulk_create(rows)
    return settled


def _credit(
    *,
    shop: Shop,
    customer: Customer,
    kind: str,
    points: int,
    occurred_at: dt.datetime,
    now: dt.datetime,
    **fields: Any,
) -> PointsEntry:
    policy = points_policy_at(shop=shop, at=occurred_at)
    entry = PointsEntry.objects.for_shop(shop).create(
        shop=shop,
        customer_id=customer.pk,
        kind=kind,
        points=points,
        occurred_at=occurred_at,
        expires_at=points_expiry_for(policy=policy, earned_at=occurred_at),
        policy=policy,
        **fields,
    )
    _settle_debts(shop=shop, customer_ids=[customer.pk], now=now)
    return entry


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
    _settle_debts(shop=shop, customer_ids={r.customer_id for r in rows}, now=now)
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
    _check_points(points)
    if purchase is not None and (
        purchase.shop_id != shop.pk or purchase.customer_id != getattr(customer, "pk", None)
    ):
        raise PointsError(
            "foreign_purchase", "이 고객의 구매가 아닙니다", "Purchase is not this customer's."
        )
    _lock_customer(shop=shop, customer=customer)
    lots = points_open_lots(shop=shop, customer=customer, now=now)
    return _take(
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
    _check_points(points, allow_negative=True)
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
    _lock_customer(shop=shop, customer=customer)
    common = {"reason": reason[:300], "created_by": user}
    if points > 0:
        entry = _credit(
            shop=shop,
            customer=customer,
            kind=EntryKind.ADJUST,
            points=points,
            occurred_at=now,
            now=now,
            **common,
        )
    else:
        entry = _take(
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
    _check_points(points)
    _lock_customer(shop=shop, customer=customer)
    return _credit(
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
        if not (_int_in(refunded_amount, 1, max(purchase.total, 1))):
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
    _lock_customer(shop=shop, customer=customer)
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
    return _take(
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
