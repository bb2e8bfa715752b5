"""Tiers (writes): levels by spend or visits over a rolling window, evaluated nightly.

An upgrade is immediate (and issues the tier's perk coupon); a customer who falls below the
threshold keeps the tier through the grace period and is then moved to the tier they qualify
for. Every change is appended to ``TierChange``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from dangol.loyalty.coupons import coupon_issue
from dangol.loyalty.errors import CouponError, TierError
from dangol.loyalty.models import (
    CouponSource,
    CouponTemplate,
    CustomerTier,
    Tier,
    TierChange,
    TierMeasure,
    TierProgram,
)
from dangol.sales.models import Purchase, PurchaseStatus
from dangol.shops.models import Shop


def _int_in(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


@transaction.atomic
def tier_program_set(
    *, shop: Shop, measure: str, window_days: int = 365, grace_days: int = 30
) -> TierProgram:
    if measure not in TierMeasure.values:
        raise TierError("invalid_program", "알 수 없는 기준", f"Unknown measure {measure!r}.")
    if not _int_in(window_days, 7, 730) or not _int_in(grace_days, 0, 365):
        raise TierError(
            "invalid_program",
            "기간은 7~730일, 유예는 0~365일",
            "Window must be 7 to 730 days and grace 0 to 365 days.",
        )
    program, _ = TierProgram.objects.for_shop(shop).update_or_create(
        shop=shop,
        defaults={"measure": measure, "window_days": window_days, "grace_days": grace_days},
    )
    return program


@transaction.atomic
def tier_create(
    *,
    shop: Shop,
    name: str,
    level: int,
    threshold: int,
    earn_multiplier_pct: int = 100,
    perk: CouponTemplate | None = None,
) -> Tier:
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise TierError("invalid_tier", "이름은 1~40자", "A name of 1 to 40 characters is needed.")
    if not _int_in(level, 1, 20) or not _int_in(threshold, 1, 10**12):
        raise TierError(
            "invalid_tier", "등급은 1~20, 기준은 1 이상", "Level 1 to 20, threshold 1 or more."
        )
    if not _int_in(earn_multiplier_pct, 100, 1000):
        raise TierError("invalid_tier", "배수는 100~1000%", "Multiplier must be 100 to 1000 %.")
    if perk is not None and perk.shop_id != shop.pk:
        raise TierError("invalid_tier", "이 매장의 쿠폰이 아닙니다", "Perk is not this shop's.")
    tiers = Tier.objects.for_shop(shop)
    if tiers.filter(level=level).exists() or tiers.filter(name=name).exists():
        raise TierError("invalid_tier", "같은 등급이 있습니다", "That level or name exists.")
    lower = tiers.filter(level__lt=level, threshold__gte=threshold).exists()
    higher = tiers.filter(level__gt=level, threshold__lte=threshold).exists()
    if lower or higher:
        raise TierError(
            "invalid_tier",
            "높은 등급일수록 기준이 높아야 합니다",
            "A higher level needs a higher threshold.",
        )
    return tiers.create(
        shop=shop,
        name=name,
        level=level,
        threshold=threshold,
        earn_multiplier_pct=earn_multiplier_pct,
        perk=perk,
    )


def tier_earn_multipliers(*, shop: Shop, customer_ids: Sequence[int]) -> dict[int, int]:
    """The earn multiplier (percent) of each customer's current tier; missing means 100."""
    return dict(
        CustomerTier.objects.for_shop(shop)
        .filter(customer_id__in=list(customer_ids))
        .values_list("customer_id", "tier__earn_multiplier_pct")
    )


@transaction.atomic
def tiers_evaluate(*, shop: Shop, now: dt.datetime | None = None) -> dict[str, int]:
    """Recompute every customer's tier (one grouped query for the measure). Returns counts of
    upgrades and downgrades. Idempotent for a given ``now``."""
    now = now or timezone.now()
    program = TierProgram.objects.for_shop(shop).first()
    tiers = sorted(Tier.objects.for_shop(shop).select_related("perk"), key=lambda t: t.level)
    if program is None or not tiers:
        return {"upgraded": 0, "downgraded": 0}
    aggregate = Sum("total") if program.measure == TierMeasure.SPEND else Count("pk")
    measured = dict(
        Purchase.objects.for_shop(shop)
        .filter(
            status=PurchaseStatus.PAID,
            customer__isnull=False,
            occurred_at__gte=now - dt.timedelta(days=program.window_days),
            occurred_at__lt=now,
        )
        .values("customer_id")
        .annotate(v=aggregate)
        .values_list("customer_id", "v")
        .order_by()
    )
    current = {
        row.customer_id: row for row in CustomerTier.objects.for_shop(shop).select_related("tier")
    }
    grace = dt.timedelta(days=program.grace_days)
    new_rows, changed, gone, history, upgrades = [], [], [], [], []
    for customer_id in set(measured) | set(current):
        value = measured.get(customer_id, 0) or 0
        qualified = None
        for tier in tiers:
            if value >= tier.threshold:
                qualified = tier
        row = current.get(customer_id)
        have = row.tier.level if row else 0
        want = qualified.level if qualified else 0
        if want > have:
            if row is None:
                new_rows.append(
                    CustomerTier(shop=shop, customer_id=customer_id, tier=qualified, since=now)
                )
            else:
                row.tier, row.since, row.below_since = qualified, now, None
                changed.append(row)
            history.append((customer_id, have, want, value))
            upgrades.append((customer_id, qualified))
        elif want == have:
            if row is not None and row.below_since is not None:
                row.below_since = None
                changed.append(row)
        elif row.below_since is None:
            row.below_since = now
            changed.append(row)
        elif now - row.below_since >= grace:
            if qualified is None:
                gone.append(row.pk)
            else:
                row.tier, row.since, row.below_since = qualified, now, None
                changed.append(row)
            history.append((customer_id, have, want, value))
    CustomerTier.objects.for_shop(shop).bulk_create(new_rows)
    CustomerTier.objects.for_shop(shop).bulk_update(changed, ["tier", "since", "below_since"])
    CustomerTier.objects.for_shop(shop).filter(pk__in=gone).delete()
    TierChange.objects.for_shop(shop).bulk_create(
        [
            TierChange(shop=shop, customer_id=c, from_level=a, to_level=b, measured=v, at=now)
            for c, a, b, v in history
        ]
    )
    _issue_perks(shop=shop, upgrades=upgrades, now=now)
    return {"upgraded": len(upgrades), "downgraded": len(history) - len(upgrades)}


def _issue_perks(*, shop: Shop, upgrades: list[tuple[int, Tier]], now: dt.datetime) -> None:
    from dangol.customers.models import Customer

    wanted = [(c, t) for c, t in upgrades if t.perk is not None and t.perk.active]
    customers = Customer.unscoped.in_bulk([c for c, _ in wanted])
    for customer_id, tier in wanted:
        try:
            coupon_issue(
                shop=shop,
                template=tier.perk,
                customer=customers[customer_id],
                source=CouponSource.TIER,
                source_ref=f"tier-{tier.pk}-customer-{customer_id}-{timezone.localdate(now)}",
                now=now,
            )
        except CouponError:
            continue  # the per-customer limit or the template's period: no perk this time
