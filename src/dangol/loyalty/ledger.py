"""The points ledger's lot arithmetic, shared by every write in ``points.py``.

A credit is a lot; a debit records which lots it took from (allocations), in the order given
(first to expire first). A refund of points already spent leaves a debt (a debit with fewer
allocations than points) that the next credits settle before anything else.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from dangol.customers.models import Customer
from dangol.loyalty.errors import PointsError
from dangol.loyalty.models import PointsAllocation, PointsEntry
from dangol.loyalty.policies import MAX_POINTS, points_expiry_for
from dangol.loyalty.selectors import points_lots, points_policy_at, points_unsettled_debits
from dangol.shops.models import Shop


def lock_customer(*, shop: Shop, customer: Customer) -> None:
    """Serialise writes that take from this customer's lots; refuse another shop's customer."""
    if customer is None or customer.shop_id != shop.pk:
        raise PointsError(
            "foreign_customer", "이 매장의 고객이 아닙니다", "Customer is not this shop's."
        )
    Customer.unscoped.select_for_update().filter(shop_id=shop.pk, pk=customer.pk).values_list(
        "pk"
    ).first()


def check_points(points: Any, *, allow_negative: bool = False) -> int:
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


def insufficient(available: int, wanted: int) -> PointsError:
    return PointsError(
        "insufficient_points",
        f"포인트가 부족합니다 (보유 {available:,}점, 요청 {wanted:,}점)",
        f"Not enough points ({available:,} available, {wanted:,} asked).",
    )


def take_from_lots(
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
        raise insufficient(amount - left, amount)
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


def settle_debts(*, shop: Shop, customer_ids: Iterable[int], now: dt.datetime) -> int:
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


def credit_lot(
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
    settle_debts(shop=shop, customer_ids=[customer.pk], now=now)
    return entry
