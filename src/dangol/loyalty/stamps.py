"""Stamp cards (writes): stamps per visit or per item; a full card issues its reward coupon.

The stamps on a card are the sum of its entries. Filling a card writes a ``complete`` entry of
minus N stamps that points at the coupon it issued, so a card can fill more than once and the
history shows every reward.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from dangol.customers.models import Customer
from dangol.loyalty.coupons import coupon_issue
from dangol.loyalty.errors import StampError
from dangol.loyalty.models import (
    CouponSource,
    CouponTemplate,
    StampCard,
    StampEntry,
    StampKind,
    StampMode,
)
from dangol.sales.models import Product, Purchase, PurchaseLine, PurchaseStatus
from dangol.shops.models import Shop

MAX_STAMPS_REQUIRED = 50


@dataclass(frozen=True)
class StampCardInput:
    name: str
    stamps_required: int
    mode: str
    reward_template_id: int
    product_ids: Sequence[int] = field(default_factory=tuple)
    categories: Sequence[str] = field(default_factory=tuple)
    min_amount: int = 0


def _int_in(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


@transaction.atomic
def stamp_card_create(*, shop: Shop, data: StampCardInput) -> StampCard:
    def bad(ko: str, en: str) -> StampError:
        return StampError("invalid_card", ko, en)

    name = (data.name or "").strip()
    if not name or len(name) > 80:
        raise bad("이름은 1~80자", "A name of 1 to 80 characters is needed.")
    if not _int_in(data.stamps_required, 2, MAX_STAMPS_REQUIRED):
        raise bad("필요한 도장은 2~50개", "A card needs 2 to 50 stamps.")
    if data.mode not in StampMode.values:
        raise bad("알 수 없는 적립 방식", f"Unknown mode {data.mode!r}.")
    if not _int_in(data.min_amount, 0, 10**9):
        raise bad("최소 금액이 잘못됐습니다", "Bad minimum amount.")
    reward = CouponTemplate.objects.for_shop(shop).filter(pk=data.reward_template_id).first()
    if reward is None:
        raise bad("이 매장의 쿠폰을 고르세요", "The reward must be one of this shop's coupons.")
    ids = sorted({int(i) for i in data.product_ids})
    if ids and Product.objects.for_shop(shop).filter(pk__in=ids).count() != len(ids):
        raise bad("다른 매장의 상품이 있습니다", "A product is not this shop's.")
    return StampCard.objects.for_shop(shop).create(
        shop=shop,
        name=name,
        stamps_required=data.stamps_required,
        mode=data.mode,
        product_ids=ids,
        categories=sorted({c.strip() for c in data.categories if c.strip()}),
        min_amount=data.min_amount,
        reward=reward,
    )


@transaction.atomic
def stamp_card_switch_off(*, shop: Shop, card: StampCard) -> StampCard:
    """Stop a card: no new stamps on it. Stamps already on it and coupons it issued stay."""
    if card is None or card.shop_id != shop.pk:
        raise StampError(
            "foreign_card", "이 매장의 도장 카드가 아닙니다", "Card is not this shop's."
        )
    StampCard.objects.for_shop(shop).filter(pk=card.pk).update(active=False)
    card.refresh_from_db()
    return card


def _complete_full_cards(
    *, shop: Shop, card: StampCard, customer_ids: Sequence[int], now: dt.datetime
) -> int:
    """Turn every full card of these customers into reward coupons; returns rewards issued."""
    counts = dict(
        StampEntry.objects.for_shop(shop)
        .filter(card=card, customer_id__in=list(customer_ids))
        .values("customer_id")
        .annotate(n=Sum("stamps"))
        .filter(n__gte=card.stamps_required)
        .values_list("customer_id", "n")
    )
    issued = 0
    for customer_id in sorted(counts):
        customer = (
            Customer.unscoped.select_for_update().filter(shop_id=shop.pk, pk=customer_id).get()
        )
        entries = StampEntry.objects.for_shop(shop).filter(card=card, customer_id=customer_id)
        have = entries.aggregate(n=Sum("stamps"))["n"] or 0
        done = entries.filter(kind=StampKind.COMPLETE).count()
        while have >= card.stamps_required:
            done += 1
            coupon = coupon_issue(
                shop=shop,
                template=card.reward,
                customer=customer,
                source=CouponSource.STAMP,
                source_ref=f"card-{card.pk}-customer-{customer_id}-{done}",
                now=now,
            )
            StampEntry.objects.for_shop(shop).create(
                shop=shop,
                card=card,
                customer_id=customer_id,
                kind=StampKind.COMPLETE,
                stamps=-card.stamps_required,
                occurred_at=now,
                coupon=coupon,
            )
            have -= card.stamps_required
            issued += 1
    return issued


def _stamps_for(card: StampCard, purchase: Purchase, lines: list[tuple]) -> int:
    if card.mode == StampMode.VISIT:
        return 1 if purchase.total >= max(card.min_amount, 1) else 0
    if not (card.product_ids or card.categories):
        return sum(q for _, _, q in lines)
    return sum(
        q for pid, cat, q in lines if pid in card.product_ids or (cat and cat in card.categories)
    )


@transaction.atomic
def stamps_award_for_purchases(
    *, shop: Shop, purchase_ids: Sequence[int], now: dt.datetime | None = None
) -> int:
    """Stamp every active card for paid purchases of known customers; idempotent per purchase
    and card. Full cards issue their reward. Returns stamps given."""
    now = now or timezone.now()
    ids = sorted({int(i) for i in purchase_ids})
    purchases = list(Purchase.unscoped.filter(shop_id=shop.pk, pk__in=ids))
    if len(purchases) != len(ids):
        raise StampError(
            "foreign_purchase", "이 매장의 구매가 아닙니다", "A purchase is not this shop's."
        )
    purchases = [p for p in purchases if p.status == PurchaseStatus.PAID and p.customer_id]
    cards = list(StampCard.objects.for_shop(shop).filter(active=True).select_related("reward"))
    if not purchases or not cards:
        return 0
    lines: dict[int, list[tuple]] = defaultdict(list)
    for pid, product_id, category, qty in (
        PurchaseLine.objects.for_shop(shop)
        .filter(purchase_id__in=[p.pk for p in purchases])
        .values_list("purchase_id", "product_id", "product__category", "quantity")
    ):
        lines[pid].append((product_id, category, qty))
    given = 0
    for card in cards:
        done = set(
            StampEntry.objects.for_shop(shop)
            .filter(card=card, kind=StampKind.EARN, purchase_id__in=[p.pk for p in purchases])
            .values_list("purchase_id", flat=True)
        )
        rows = []
        for purchase in purchases:
            n = 0 if purchase.pk in done else _stamps_for(card, purchase, lines[purchase.pk])
            if n > 0:
                rows.append(
                    StampEntry(
                        shop=shop,
                        card=card,
                        customer_id=purchase.customer_id,
                        kind=StampKind.EARN,
                        stamps=n,
                        occurred_at=purchase.occurred_at,
                        purchase=purchase,
                    )
                )
        StampEntry.objects.for_shop(shop).bulk_create(rows, ignore_conflicts=True)
        given += sum(r.stamps for r in rows)
        _complete_full_cards(
            shop=shop, card=card, customer_ids=sorted({r.customer_id for r in rows}), now=now
        )
    return given


@transaction.atomic
def stamp_add(
    *,
    shop: Shop,
    card: StampCard,
    customer: Customer,
    stamps: int = 1,
    key: str = "",
    user: Any = None,
    now: dt.datetime | None = None,
) -> StampEntry:
    """Stamp by hand (staff screen, tablet). A repeated ``key`` (a double tap) returns the
    first entry instead of stamping twice."""
    now = now or timezone.now()
    if card is None or card.shop_id != shop.pk:
        raise StampError(
            "foreign_card", "이 매장의 도장 카드가 아닙니다", "Card is not this shop's."
        )
    if customer is None or customer.shop_id != shop.pk:
        raise StampError(
            "foreign_customer", "이 매장의 고객이 아닙니다", "Customer is not this shop's."
        )
    if not _int_in(stamps, 1, card.stamps_required):
        raise StampError(
            "invalid_stamps",
            f"도장은 1~{card.stamps_required}개",
            f"Stamps must be 1 to {card.stamps_required}.",
        )
    if not card.active:
        raise StampError("card_inactive", "중지된 도장 카드입니다", "This card is switched off.")
    key = (key or "").strip()[:64]
    if key:
        found = StampEntry.objects.for_shop(shop).filter(card=card, key=key).first()
        if found is not None:
            return found
    try:
        with transaction.atomic():
            entry = StampEntry.objects.for_shop(shop).create(
                shop=shop,
                card=card,
                customer=customer,
                kind=StampKind.MANUAL,
                stamps=stamps,
                occurred_at=now,
                key=key,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
    except IntegrityError:
        return StampEntry.objects.for_shop(shop).get(card=card, key=key)
    _complete_full_cards(shop=shop, card=card, customer_ids=[customer.pk], now=now)
    return entry


@transaction.atomic
def stamps_reverse_for_purchase(
    *, shop: Shop, purchase: Purchase, now: dt.datetime | None = None
) -> int:
    """Take back a refunded purchase's stamps from cards not yet turned into a reward (a
    reward already issued stays: the coupon is the shop's to void). Returns stamps removed."""
    now = now or timezone.now()
    if purchase is None or purchase.shop_id != shop.pk:
        raise StampError(
            "foreign_purchase", "이 매장의 구매가 아닙니다", "Purchase is not this shop's."
        )
    removed = 0
    earned = StampEntry.objects.for_shop(shop).filter(purchase=purchase, kind=StampKind.EARN)
    for entry in earned.select_related("card"):
        Customer.unscoped.select_for_update().filter(pk=entry.customer_id).values_list("pk").first()
        have = (
            StampEntry.objects.for_shop(shop)
            .filter(card=entry.card, customer_id=entry.customer_id)
            .aggregate(n=Sum("stamps"))["n"]
            or 0
        )
        take = min(entry.stamps, have)
        if take <= 0:
            continue
        try:
            with transaction.atomic():
                StampEntry.objects.for_shop(shop).create(
                    shop=shop,
                    card=entry.card,
                    customer_id=entry.customer_id,
                    kind=StampKind.REVERSE,
                    stamps=-take,
                    occurred_at=now,
                    purchase=purchase,
                )
        except IntegrityError:
            continue  # already reversed
        removed += take
    return removed
