"""Reads of the loyalty app. Balances and counts are always derived from the ledgers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from dangol.customers.models import Customer
from dangol.loyalty.models import (
    Coupon,
    CouponStatus,
    CouponTemplate,
    CustomerTier,
    PointsEntry,
    PointsPolicy,
    Referral,
    ReferralCode,
    ReferralProgram,
    ReferralStatus,
    StampCard,
    StampEntry,
    Tier,
)
from dangol.shops.models import Shop

SOON_DAYS = 30


def _zero_sum(field: str):
    return Coalesce(Sum(field), Value(0), output_field=IntegerField())


def points_lots(*, shop: Shop, customer_ids: Sequence[int]) -> QuerySet[PointsEntry]:
    """Credits (lots) of the given customers with ``used`` and ``open`` points annotated."""
    return (
        PointsEntry.objects.for_shop(shop)
        .filter(customer_id__in=list(customer_ids), points__gt=0)
        .annotate(used=_zero_sum("consumed_by__points"))
        .annotate(open=F("points") - F("used"))
    )


def points_open_lots(
    *, shop: Shop, customer: Customer, now: dt.datetime | None = None
) -> list[PointsEntry]:
    """Lots that still hold points and have not expired, first to expire first (FIFO)."""
    now = now or timezone.now()
    return list(
        points_lots(shop=shop, customer_ids=[customer.pk])
        .filter(open__gt=0, expires_at__gt=now)
        .order_by("expires_at", "pk")
    )


def points_unsettled_debits(*, shop: Shop, customer_ids: Sequence[int]) -> QuerySet[PointsEntry]:
    """Debits not fully covered by lots (a refund of points already spent), oldest first."""
    return (
        PointsEntry.objects.for_shop(shop)
        .filter(customer_id__in=list(customer_ids), points__lt=0)
        .annotate(covered=_zero_sum("allocations__points"))
        .annotate(owed=-F("points") - F("covered"))
        .filter(owed__gt=0)
        .order_by("occurred_at", "pk")
    )


@dataclass(frozen=True)
class PointsSummary:
    balance: int  # open, unexpired points minus debt (negative only while in debt)
    expiring_soon: int  # open points that expire within SOON_DAYS days
    debt: int  # points a refund took back that were already spent
    next_expiry: dt.datetime | None


def points_summary(
    *, shop: Shop, customer: Customer, now: dt.datetime | None = None, soon_days: int = SOON_DAYS
) -> PointsSummary:
    now = now or timezone.now()
    lots = points_open_lots(shop=shop, customer=customer, now=now)
    debt = sum(d.owed for d in points_unsettled_debits(shop=shop, customer_ids=[customer.pk]))
    soon = now + dt.timedelta(days=soon_days)
    return PointsSummary(
        balance=sum(lot.open for lot in lots) - debt,
        expiring_soon=sum(lot.open for lot in lots if lot.expires_at <= soon),
        debt=debt,
        next_expiry=lots[0].expires_at if lots else None,
    )


def points_balances(*, shop: Shop, customer_ids: Sequence[int]) -> dict[int, int]:
    """Posted balances (sum of the ledger) of many customers in one query; equal to the
    derived balance once the nightly expiry has run."""
    rows = (
        PointsEntry.objects.for_shop(shop)
        .filter(customer_id__in=list(customer_ids))
        .values("customer_id")
        .annotate(total=Sum("points"))
        .order_by()
    )
    return {r["customer_id"]: r["total"] for r in rows}


def points_history(*, shop: Shop, customer: Customer, limit: int = 50) -> list[PointsEntry]:
    return list(
        PointsEntry.objects.for_shop(shop)
        .filter(customer_id=customer.pk)
        .order_by("-occurred_at", "-pk")[:limit]
    )


def points_policy_at(*, shop: Shop, at: dt.datetime | None = None) -> PointsPolicy | None:
    """The policy version in force at a moment (the latest that started by then)."""
    at = at or timezone.now()
    return (
        PointsPolicy.objects.for_shop(shop)
        .filter(effective_from__lte=at)
        .order_by("-effective_from", "-version")
        .first()
    )


def points_policy_list(*, shop: Shop) -> list[PointsPolicy]:
    return list(PointsPolicy.objects.for_shop(shop).order_by("-version"))


# --- stamps and coupons ---------------------------------------------------------------------


@dataclass(frozen=True)
class CardProgress:
    card: StampCard
    stamps: int


def stamp_progress(*, shop: Shop, customer: Customer) -> list[CardProgress]:
    """The customer's stamps on each active card (two queries)."""
    counts = dict(
        StampEntry.objects.for_shop(shop)
        .filter(customer_id=customer.pk)
        .values("card_id")
        .annotate(n=Sum("stamps"))
        .values_list("card_id", "n")
        .order_by()
    )
    cards = StampCard.objects.for_shop(shop).filter(active=True).order_by("pk")
    return [CardProgress(card, counts.get(card.pk, 0)) for card in cards]


def stamp_counts(*, shop: Shop, customer_ids: Sequence[int]) -> dict[int, int]:
    """Each customer's stamps on the shop's first active card (the one ``stamp_progress``
    lists first), one query. Customers without stamps on it are absent."""
    card = StampCard.objects.for_shop(shop).filter(active=True).order_by("pk").values("pk")[:1]
    return dict(
        StampEntry.objects.for_shop(shop)
        .filter(customer_id__in=customer_ids, card_id=Subquery(card))
        .values("customer_id")
        .annotate(n=Sum("stamps"))
        .values_list("customer_id", "n")
        .order_by()
    )


def stamp_card_list(*, shop: Shop) -> list[StampCard]:
    return list(StampCard.objects.for_shop(shop).select_related("reward").order_by("pk"))


def stamp_card_get(*, shop: Shop, card_id: int) -> StampCard | None:
    return StampCard.objects.for_shop(shop).filter(pk=card_id).first()


def coupon_template_list(*, shop: Shop) -> list[CouponTemplate]:
    return list(CouponTemplate.objects.for_shop(shop).select_related("product").order_by("pk"))


def coupon_usable(
    *, shop: Shop, customer: Customer, now: dt.datetime | None = None
) -> list[Coupon]:
    now = now or timezone.now()
    return list(
        Coupon.objects.for_shop(shop)
        .filter(
            customer_id=customer.pk,
            status=CouponStatus.ISSUED,
            valid_from__lte=now,
            expires_at__gt=now,
        )
        .select_related("template")
        .order_by("expires_at", "pk")
    )


def coupon_recent_redemptions(*, shop: Shop, limit: int = 20) -> list[Coupon]:
    return list(
        Coupon.objects.for_shop(shop)
        .filter(status=CouponStatus.REDEEMED)
        .select_related("template", "redeemed_store")
        .order_by("-redeemed_at", "-pk")[:limit]
    )


@dataclass(frozen=True)
class CouponStats:
    template: CouponTemplate
    issued: int
    redeemed: int
    face_value: int  # KRW given away (as the customer sees it)
    product_cost: int  # KRW the shop paid for free items, shipping
    baskets: int = 0  # KRW of the purchases the used coupons were redeemed on

    @property
    def cost(self) -> int:
        """What the coupons cost the shop: the discount given, or the item/shipping paid."""
        return max(self.face_value, self.product_cost)

    @property
    def sales_per_won(self) -> float | None:
        """Sales on coupon purchases per won of cost (not incremental: no holdout here)."""
        return self.baskets / self.cost if self.cost else None


def coupon_stats(*, shop: Shop) -> list[CouponStats]:
    """Issued and redeemed coupons per template with their cost, for ROI (one query)."""
    redeemed = Q(coupons__status=CouponStatus.REDEEMED)
    rows = (
        CouponTemplate.objects.for_shop(shop)
        .annotate(
            n_issued=Count("coupons"),
            n_redeemed=Count("coupons", filter=redeemed),
            face=_zero_sum("coupons__face_value"),
            cost=_zero_sum("coupons__product_cost"),
            baskets=_zero_sum("coupons__redeemed_amount"),
        )
        .order_by("pk")
    )
    return [CouponStats(t, t.n_issued, t.n_redeemed, t.face, t.cost, t.baskets) for t in rows]


# --- referrals ------------------------------------------------------------------------------


def referral_program_get(*, shop: Shop) -> ReferralProgram | None:
    return (
        ReferralProgram.objects.for_shop(shop)
        .select_related("referrer_coupon", "referee_coupon")
        .first()
    )


def referral_code_of(*, shop: Shop, customer: Customer) -> ReferralCode | None:
    return ReferralCode.objects.for_shop(shop).filter(customer_id=customer.pk).first()


def referral_list(*, shop: Shop, status: str | None = None, limit: int = 50) -> list[Referral]:
    rows = Referral.objects.for_shop(shop).select_related("referrer", "referee")
    if status:
        rows = rows.filter(status=status)
    return list(rows.order_by("-created_at", "-pk")[:limit])


def referral_get(*, shop: Shop, referral_id: int) -> Referral | None:
    return Referral.objects.for_shop(shop).filter(pk=referral_id).first()


def referral_counts(*, shop: Shop) -> dict[str, int]:
    """Referrals per status (every status present, zero when none)."""
    found = dict(
        Referral.objects.for_shop(shop)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
        .order_by()
    )
    return {status: found.get(status, 0) for status in ReferralStatus.values}


# --- tiers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierCount:
    tier: Tier
    members: int


def tier_member_counts(*, shop: Shop) -> list[TierCount]:
    """Every tier, lowest first, with how many customers hold it now (two queries)."""
    counts = dict(
        CustomerTier.objects.for_shop(shop)
        .values("tier_id")
        .annotate(n=Count("pk"))
        .values_list("tier_id", "n")
        .order_by()
    )
    tiers = Tier.objects.for_shop(shop).select_related("perk").order_by("level")
    return [TierCount(t, counts.get(t.pk, 0)) for t in tiers]
