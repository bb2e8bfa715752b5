"""Coupons (writes): templates, issuing with unguessable codes, race-safe redemption.

Redemption validates the code and the basket, then moves the coupon from ``issued`` to
``redeemed`` with one conditional ``UPDATE … WHERE status = 'issued'``. Two tills redeeming the
same code at the same moment both pass the checks, but only one update finds the row still
issued (PostgreSQL re-checks the condition after the row lock; SQLite has one writer), so
exactly one succeeds and the other gets ``already_redeemed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dangol.customers.models import Customer
from dangol.loyalty.codes import code_format, code_new, code_normalize
from dangol.loyalty.errors import CouponError
from dangol.loyalty.models import (
    RELATIVE_DAYS,
    Coupon,
    CouponKind,
    CouponSource,
    CouponStatus,
    CouponTemplate,
)
from dangol.sales.models import Product, Purchase, PurchaseLine
from dangol.shops.models import Shop, Store

MAX_VALUE_KRW = 10_000_000


@dataclass(frozen=True)
class CouponTemplateInput:
    name: str
    kind: str
    value: int = 0
    max_discount: int = 0
    product_id: int | None = None
    min_spend: int = 0
    scope_product_ids: Sequence[int] = field(default_factory=tuple)
    scope_categories: Sequence[str] = field(default_factory=tuple)
    valid_days: int | None = 30
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    per_customer_limit: int = 0


def _bad(ko: str, en: str) -> CouponError:
    return CouponError("invalid_template", ko, en)


def _is_int(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


@transaction.atomic
def coupon_template_create(*, shop: Shop, data: CouponTemplateInput) -> CouponTemplate:
    name = (data.name or "").strip()
    if not name or len(name) > 80:
        raise _bad("이름은 1~80자", "A name of 1 to 80 characters is needed.")
    if data.kind not in CouponKind.values:
        raise _bad("알 수 없는 쿠폰 종류", f"Unknown coupon kind {data.kind!r}.")
    if data.kind == CouponKind.PERCENT and not _is_int(data.value, 1, 100):
        raise _bad("할인율은 1~100%", "A percent coupon needs 1 to 100 %.")
    if data.kind in (CouponKind.AMOUNT, CouponKind.FREE_SHIPPING) and not _is_int(
        data.value, 1, MAX_VALUE_KRW
    ):
        raise _bad("금액은 1원 이상", "An amount coupon needs a value of 1 KRW or more.")
    if not _is_int(data.value, 0, MAX_VALUE_KRW) or not _is_int(data.max_discount, 0, 10**9):
        raise _bad("금액이 잘못됐습니다", "Values must be whole KRW, 0 or more.")
    if not _is_int(data.min_spend, 0, 10**9) or not _is_int(data.per_customer_limit, 0, 1000):
        raise _bad("최소 금액이나 인당 한도가 잘못됐습니다", "Bad minimum spend or limit.")
    product = None
    if data.product_id is not None:
        product = Product.objects.for_shop(shop).filter(pk=data.product_id).first()
        if product is None:
            raise _bad("이 매장의 상품이 아닙니다", "Product is not this shop's.")
    if data.kind == CouponKind.FREE_ITEM and product is None:
        raise _bad("무료 상품을 고르세요", "A free-item coupon needs its product.")
    if data.kind == CouponKind.SIZE_UP and not (data.value or product):
        raise _bad("사이즈업 금액이나 상품이 필요합니다", "A size-up needs its price or product.")
    scope_ids = sorted({int(i) for i in data.scope_product_ids})
    if scope_ids and Product.objects.for_shop(shop).filter(pk__in=scope_ids).count() != len(
        scope_ids
    ):
        raise _bad("다른 매장의 상품이 있습니다", "A scoped product is not this shop's.")
    if data.valid_days is not None:
        if data.valid_days not in RELATIVE_DAYS or data.valid_from or data.valid_until:
            raise _bad(
                "유효기간은 당일·3·7·30·90·365일 중 하나",
                "Relative validity must be 0, 3, 7, 30, 90 or 365 days, without dates.",
            )
    elif not (data.valid_from and data.valid_until and data.valid_from < data.valid_until):
        raise _bad("시작과 끝 날짜가 필요합니다", "An absolute validity needs a start and an end.")
    return CouponTemplate.objects.for_shop(shop).create(
        shop=shop,
        name=name,
        kind=data.kind,
        value=data.value,
        max_discount=data.max_discount,
        product=product,
        min_spend=data.min_spend,
        scope_product_ids=scope_ids,
        scope_categories=sorted({c.strip() for c in data.scope_categories if c.strip()}),
        valid_days=data.valid_days,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        per_customer_limit=data.per_customer_limit,
    )


def coupon_validity(*, template: CouponTemplate, issued_at: dt.datetime):
    """(valid_from, expires_at). Relative: from the issue through the issue day (Seoul) plus
    ``valid_days``; expires at the start of the day after."""
    if template.valid_days is None:
        return template.valid_from, template.valid_until
    last = timezone.localtime(issued_at).date() + dt.timedelta(days=template.valid_days + 1)
    return issued_at, timezone.make_aware(dt.datetime.combine(last, dt.time.min))


def _new_code() -> str:
    for _ in range(8):
        code = code_new()
        if not Coupon.unscoped.filter(code=code).exists():
            return code
    raise CouponError("code_space", "코드를 만들지 못했습니다", "Could not draw a free code.")


@transaction.atomic
def coupon_issue(
    *,
    shop: Shop,
    template: CouponTemplate,
    customer: Customer | None,
    source: str = CouponSource.MANUAL,
    source_ref: str = "",
    now: dt.datetime | None = None,
) -> Coupon:
    """Issue one coupon. With a ``source_ref`` it is idempotent (the same one comes back)."""
    now = now or timezone.now()
    if template is None or template.shop_id != shop.pk:
        raise CouponError(
            "foreign_template", "이 매장의 쿠폰이 아닙니다", "Template is not this shop's."
        )
    if customer is not None and customer.shop_id != shop.pk:
        raise CouponError(
            "foreign_customer", "이 매장의 고객이 아닙니다", "Customer is not this shop's."
        )
    if source not in CouponSource.values:
        raise CouponError("invalid_source", "알 수 없는 발급 경로", f"Unknown source {source!r}.")
    if source_ref:
        found = Coupon.objects.for_shop(shop).filter(source=source, source_ref=source_ref).first()
        if found is not None:
            return found
    if not template.active:
        raise CouponError(
            "template_inactive", "중지된 쿠폰입니다", "This coupon template is switched off."
        )
    valid_from, expires_at = coupon_validity(template=template, issued_at=now)
    if expires_at <= now:
        raise CouponError(
            "template_expired", "기간이 끝난 쿠폰입니다", "This coupon's period is over."
        )
    if customer is not None and template.per_customer_limit:
        Customer.unscoped.select_for_update().filter(pk=customer.pk).values_list("pk").first()
        held = (
            Coupon.objects.for_shop(shop)
            .filter(template=template, customer=customer)
            .exclude(status=CouponStatus.VOID)
            .count()
        )
        if held >= template.per_customer_limit:
            raise CouponError(
                "limit_reached",
                f"이 고객은 이 쿠폰을 이미 {held}장 받았습니다",
                f"This customer already has {held} of this coupon (the limit).",
            )
    for _ in range(3):
        try:
            with transaction.atomic():
                return Coupon.objects.for_shop(shop).create(
                    shop=shop,
                    template=template,
                    customer=customer,
                    code=_new_code(),
                    source=source,
                    source_ref=source_ref[:80],
                    issued_at=now,
                    valid_from=valid_from,
                    expires_at=expires_at,
                )
        except IntegrityError:
            if source_ref:
                # A concurrent issue with the same reference won: return its coupon.
                return Coupon.objects.for_shop(shop).get(source=source, source_ref=source_ref)
    raise CouponError("code_space", "코드를 만들지 못했습니다", "Could not draw a free code.")


# Stable reasons of a refused redemption (API code -> Korean / English).
REASONS: dict[str, tuple[str, str]] = {
    "malformed_code": (
        "쿠폰 번호 형식이 맞지 않아요. 다시 확인해 주세요",
        "That is not a valid coupon code; please check it.",
    ),
    "unknown_code": ("등록되지 않은 쿠폰 번호예요", "No coupon has this code."),
    "foreign_shop": ("다른 매장의 쿠폰이에요", "This coupon belongs to another shop."),
    "already_redeemed": ("이미 사용한 쿠폰이에요", "This coupon has already been used."),
    "void": ("취소된 쿠폰이에요", "This coupon has been cancelled."),
    "not_yet_valid": ("아직 사용 기간이 아니에요", "This coupon is not valid yet."),
    "expired": ("사용 기간이 지난 쿠폰이에요", "This coupon has expired."),
    "amount_required": ("결제 금액을 입력해 주세요", "Enter the purchase amount."),
    "invalid_amount": ("결제 금액이 잘못됐어요", "The purchase amount is not valid."),
    "below_minimum": ("최소 결제 금액이 안 돼요", "The purchase is below the minimum spend."),
    "out_of_scope": (
        "이 쿠폰을 쓸 수 있는 상품이 없어요",
        "Nothing in the purchase is covered by this coupon.",
    ),
    "other_customer": ("다른 고객의 쿠폰이에요", "This coupon belongs to another customer."),
    "foreign_store": ("이 매장의 지점이 아니에요", "The store is not this shop's."),
    "foreign_purchase": ("이 매장의 구매가 아니에요", "The purchase is not this shop's."),
}


def _refuse(code: str, **fmt: Any) -> CouponError:
    ko, en = REASONS[code]
    return CouponError(code, ko.format(**fmt), en.format(**fmt))


@dataclass(frozen=True)
class Basket:
    amount: int  # what the purchase comes to (KRW)
    in_scope: int  # of which, items the coupon covers (KRW)


def _basket(
    *, shop: Shop, template: CouponTemplate, purchase: Purchase | None, amount: int | None
) -> Basket | None:
    scoped = bool(template.scope_product_ids or template.scope_categories)
    if purchase is not None:
        lines = list(
            PurchaseLine.objects.for_shop(shop)
            .filter(purchase=purchase)
            .values_list("product_id", "product__category", "amount")
        )
        total = purchase.total if amount is None else amount
        if not scoped:
            return Basket(total, total)
        covered = sum(
            a
            for pid, cat, a in lines
            if pid in template.scope_product_ids or (cat and cat in template.scope_categories)
        )
        return Basket(total, covered)
    if amount is None:
        return None
    # Without the lines, a scoped coupon cannot be checked: refuse rather than guess.
    return Basket(amount, 0 if scoped else amount)


def _cost(*, template: CouponTemplate, basket: Basket | None) -> tuple[int, int]:
    """(face value, product cost) in KRW."""
    product = template.product
    if template.kind == CouponKind.PERCENT:
        face = (basket.in_scope if basket else 0) * template.value // 100
        if template.max_discount:
            face = min(face, template.max_discount)
        return face, 0
    if template.kind == CouponKind.AMOUNT:
        return min(template.value, basket.in_scope) if basket else template.value, 0
    if template.kind == CouponKind.FREE_ITEM:
        return (template.value or product.price), product.unit_cost
    if template.kind == CouponKind.SIZE_UP:
        return (template.value or (product.price if product else 0)), (
            product.unit_cost if product else 0
        )
    return template.value, template.value  # free shipping: the shop pays the courier


def _check(
    *,
    shop: Shop,
    code: str,
    amount: int | None,
    purchase: Purchase | None,
    now: dt.datetime,
) -> tuple[Coupon, Basket | None]:
    normal = code_normalize(code)
    if normal is None:
        raise _refuse("malformed_code")
    coupon = (
        Coupon.objects.for_shop(shop)
        .select_related("template__product")
        .filter(code=normal)
        .first()
    )
    if coupon is None:
        if Coupon.unscoped.filter(code=normal).exclude(shop_id=shop.pk).exists():
            raise _refuse("foreign_shop")
        raise _refuse("unknown_code")
    if coupon.status == CouponStatus.REDEEMED:
        raise _refuse("already_redeemed")
    if coupon.status == CouponStatus.VOID:
        raise _refuse("void")
    if now < coupon.valid_from:
        raise _refuse("not_yet_valid")
    if now >= coupon.expires_at:
        raise _refuse("expired")
    if amount is not None and not _is_int(amount, 0, 10**10):
        raise _refuse("invalid_amount")
    if purchase is not None:
        if purchase.shop_id != shop.pk:
            raise _refuse("foreign_purchase")
        if coupon.customer_id and purchase.customer_id not in (None, coupon.customer_id):
            raise _refuse("other_customer")
    template = coupon.template
    scoped = bool(template.scope_product_ids or template.scope_categories)
    basket = _basket(shop=shop, template=template, purchase=purchase, amount=amount)
    if basket is None and (template.min_spend or template.kind == CouponKind.PERCENT or scoped):
        raise _refuse("amount_required")
    if basket is not None and basket.amount < template.min_spend:
        raise _refuse("below_minimum")
    if basket is not None and scoped and basket.in_scope <= 0:
        raise _refuse("out_of_scope")
    return coupon, basket


def coupon_check(
    *,
    shop: Shop,
    code: str,
    amount: int | None = None,
    purchase: Purchase | None = None,
    now: dt.datetime | None = None,
) -> Coupon:
    """Every reason to refuse the code, without changing anything; returns the coupon. A
    coupon limited to some products needs the purchase (its lines) to be checked."""
    coupon, _ = _check(
        shop=shop, code=code, amount=amount, purchase=purchase, now=now or timezone.now()
    )
    return coupon


@transaction.atomic
def coupon_redeem(
    *,
    shop: Shop,
    code: str,
    amount: int | None = None,
    purchase: Purchase | None = None,
    store: Store | None = None,
    user: Any = None,
    now: dt.datetime | None = None,
) -> Coupon:
    """Use a coupon once. Raises ``CouponError`` with a stable ``code`` (see ``REASONS``)."""
    now = now or timezone.now()
    if store is not None and store.shop_id != shop.pk:
        raise _refuse("foreign_store")
    coupon, basket = _check(shop=shop, code=code, amount=amount, purchase=purchase, now=now)
    face, cost = _cost(template=coupon.template, basket=basket)
    updated = (
        Coupon.objects.for_shop(shop)
        .filter(pk=coupon.pk, status=CouponStatus.ISSUED)
        .update(
            status=CouponStatus.REDEEMED,
            redeemed_at=now,
            redeemed_store=store,
            redeemed_purchase=purchase,
            redeemed_by=user if getattr(user, "is_authenticated", False) else None,
            redeemed_amount=basket.amount if basket else None,
            face_value=face,
            product_cost=cost,
        )
    )
    if updated != 1:
        raise _refuse("already_redeemed")
    coupon.refresh_from_db()
    return coupon


@transaction.atomic
def coupon_void(*, shop: Shop, coupon: Coupon) -> Coupon:
    """Cancel an unused coupon (a mistake, a refund of what earned it)."""
    if coupon is None or coupon.shop_id != shop.pk:
        raise _refuse("foreign_shop")
    updated = (
        Coupon.objects.for_shop(shop)
        .filter(pk=coupon.pk, status=CouponStatus.ISSUED)
        .update(status=CouponStatus.VOID)
    )
    if updated != 1:
        raise _refuse("already_redeemed")
    coupon.refresh_from_db()
    return coupon


__all__ = [
    "REASONS",
    "CouponTemplateInput",
    "code_format",
    "coupon_check",
    "coupon_issue",
    "coupon_redeem",
    "coupon_template_create",
    "coupon_validity",
    "coupon_void",
]
