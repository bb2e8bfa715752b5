"""Referrals (writes): personal codes, registration with its guards, and the reward.

A customer's code uses the coupon alphabet and check character (``codes.py``), so a mistyped
code is caught before any look-up. A new customer registers with a code once; the referral then
waits for the referee's first paid purchase, and only then are both sides rewarded (points
and/or a coupon, as the shop's programme says).

Guards, each with a stable error code: the referrer cannot be the referee (``self_referral``),
share the referee's phone or e-mail (``same_person``) or device (``same_device``); a device that
already registered a referee cannot register another (``same_device``); a referee who has
already bought something is not new (``not_new_customer``). Past ``daily_limit`` referrals by one
referrer in a day, further ones are recorded but held for the owner's review.

Exactly once: the reward first moves the referral from ``pending`` to ``rewarded`` with a
conditional update; only the caller whose update took the row pays, and the coupons it issues
carry the referral as their source reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dangol.core.crypto import blind_index, blind_indexes
from dangol.customers.models import Customer
from dangol.loyalty.codes import code_new, code_normalize
from dangol.loyalty.coupons import coupon_issue
from dangol.loyalty.errors import CouponError, ReferralError
from dangol.loyalty.models import (
    CouponSource,
    CouponTemplate,
    Referral,
    ReferralCode,
    ReferralProgram,
    ReferralStatus,
)
from dangol.loyalty.points import points_bonus
from dangol.sales.models import Purchase, PurchaseStatus
from dangol.shops.models import Membership, Role, Shop

MAX_REWARD_POINTS = 1_000_000
MAX_DAILY_LIMIT = 1_000
DEVICE_PURPOSE = "referral_device"

# Stable reasons of a refused referral (code -> Korean / English).
REASONS: dict[str, tuple[str, str]] = {
    "malformed_code": (
        "추천 코드 형식이 맞지 않아요. 다시 확인해 주세요",
        "That is not a valid referral code; please check it.",
    ),
    "unknown_code": ("등록되지 않은 추천 코드예요", "No customer has this referral code."),
    "foreign_customer": ("이 매장의 고객이 아니에요", "The customer is not this shop's."),
    "program_off": (
        "추천 프로그램을 운영하지 않아요",
        "The shop has no active referral programme.",
    ),
    "self_referral": ("본인의 추천 코드는 쓸 수 없어요", "A customer cannot refer themselves."),
    "same_person": (
        "추천한 고객과 전화번호나 이메일이 같아요",
        "The referrer has the same phone number or e-mail.",
    ),
    "same_device": (
        "같은 기기에서 이미 추천이 등록됐어요",
        "A referral was already registered from this device.",
    ),
    "already_referred": (
        "이미 추천 코드를 등록한 고객이에요",
        "This customer was already referred.",
    ),
    "not_new_customer": (
        "첫 구매 전인 새 고객만 추천 코드를 쓸 수 있어요",
        "Only a new customer, before a first purchase, can use a referral code.",
    ),
    "not_held": ("검토 대기 중인 추천이 아니에요", "This referral is not waiting for review."),
    "owner_required": ("대표만 검토할 수 있어요", "Only the owner can review referrals."),
}


def _refuse(code: str) -> ReferralError:
    ko, en = REASONS[code]
    return ReferralError(code, ko, en)


def _bad(ko: str, en: str) -> ReferralError:
    return ReferralError("invalid_program", ko, en)


def _int_in(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _own_customer(*, shop: Shop, customer: Customer | None) -> Customer:
    if customer is None or customer.shop_id != shop.pk:
        raise _refuse("foreign_customer")
    return customer


def _device_bidx(*, shop: Shop, device_id: str) -> str:
    device_id = (device_id or "").strip()[:200]
    return blind_index(device_id, purpose=DEVICE_PURPOSE, shop_id=shop.pk) if device_id else ""


def _template(*, shop: Shop, template: CouponTemplate | None) -> CouponTemplate | None:
    if template is not None and template.shop_id != shop.pk:
        raise _bad("이 매장의 쿠폰이 아닙니다", "The coupon template is not this shop's.")
    return template


@transaction.atomic
def referral_program_set(
    *,
    shop: Shop,
    active: bool = True,
    referrer_points: int = 0,
    referrer_coupon: CouponTemplate | None = None,
    referee_points: int = 0,
    referee_coupon: CouponTemplate | None = None,
    daily_limit: int = 5,
    now: dt.datetime | None = None,
) -> ReferralProgram:
    """Create or change the shop's programme. A change applies to referrals rewarded from
    then on; referrals already rewarded keep what they were paid."""
    if not _int_in(referrer_points, 0, MAX_REWARD_POINTS) or not _int_in(
        referee_points, 0, MAX_REWARD_POINTS
    ):
        raise _bad("포인트는 0~1,000,000점", "Reward points must be 0 to 1,000,000.")
    if not _int_in(daily_limit, 1, MAX_DAILY_LIMIT):
        raise _bad("하루 한도는 1~1,000건", "The daily limit must be 1 to 1,000.")
    referrer_coupon = _template(shop=shop, template=referrer_coupon)
    referee_coupon = _template(shop=shop, template=referee_coupon)
    if active and not (referrer_points or referrer_coupon or referee_points or referee_coupon):
        raise _bad("보상을 하나 이상 정하세요", "An active programme needs at least one reward.")
    program, _ = ReferralProgram.objects.for_shop(shop).update_or_create(
        shop=shop,
        defaults={
            "active": bool(active),
            "referrer_points": referrer_points,
            "referrer_coupon": referrer_coupon,
            "referee_points": referee_points,
            "referee_coupon": referee_coupon,
            "daily_limit": daily_limit,
            "updated_at": now or timezone.now(),
        },
    )
    return program


@transaction.atomic
def referral_code_issue(
    *, shop: Shop, customer: Customer, device_id: str = "", now: dt.datetime | None = None
) -> ReferralCode:
    """The customer's personal code, made on first use; the same one ever after."""
    customer = _own_customer(shop=shop, customer=customer)
    found = ReferralCode.objects.for_shop(shop).filter(customer_id=customer.pk).first()
    if found is not None:
        return found
    for _ in range(8):
        code = code_new()
        if ReferralCode.objects.for_shop(shop).filter(code=code).exists():
            continue
        try:
            with transaction.atomic():
                return ReferralCode.objects.for_shop(shop).create(
                    shop=shop,
                    customer=customer,
                    code=code,
                    device_bidx=_device_bidx(shop=shop, device_id=device_id),
                    created_at=now or timezone.now(),
                )
        except IntegrityError:
            found = ReferralCode.objects.for_shop(shop).filter(customer_id=customer.pk).first()
            if found is not None:  # a concurrent call made it first
                return found
    raise ReferralError("code_space", "코드를 만들지 못했습니다", "Could not draw a free code.")


def _same_person(a: Customer, b: Customer) -> bool:
    return bool(
        (a.phone_bidx and a.phone_bidx == b.phone_bidx)
        or (a.email_bidx and a.email_bidx == b.email_bidx)
    )


@transaction.atomic
def referral_register(
    *,
    shop: Shop,
    referee: Customer,
    code: str,
    device_id: str = "",
    now: dt.datetime | None = None,
) -> Referral:
    """A new customer gives a referral code. Raises ``ReferralError`` (see ``REASONS``);
    past the programme's daily limit for the referrer, the referral is held for review."""
    now = now or timezone.now()
    referee = _own_customer(shop=shop, customer=referee)
    normal = code_normalize(code)
    if normal is None:
        raise _refuse("malformed_code")
    program = ReferralProgram.objects.for_shop(shop).first()
    if program is None or not program.active:
        raise _refuse("program_off")
    owner = ReferralCode.objects.for_shop(shop).filter(code=normal).first()
    if owner is None:
        raise _refuse("unknown_code")
    # One referrer's registrations are serialised, so the daily count below is exact.
    referrer = (
        Customer.unscoped.select_for_update().filter(shop_id=shop.pk, pk=owner.customer_id).first()
    )
    if referrer is None:
        raise _refuse("unknown_code")
    if referrer.pk == referee.pk:
        raise _refuse("self_referral")
    if _same_person(referrer, referee):
        raise _refuse("same_person")
    device = (device_id or "").strip()[:200]
    if device:
        hashes = blind_indexes(device, purpose=DEVICE_PURPOSE, shop_id=shop.pk)
        if owner.device_bidx in hashes or (
            Referral.objects.for_shop(shop).filter(device_bidx__in=hashes).exists()
        ):
            raise _refuse("same_device")
    if Referral.objects.for_shop(shop).filter(referee_id=referee.pk).exists():
        raise _refuse("already_referred")
    if (
        Purchase.unscoped.filter(shop_id=shop.pk, customer_id=referee.pk)
        .exclude(status=PurchaseStatus.CANCELLED)
        .exists()
    ):
        raise _refuse("not_new_customer")
    today = (
        Referral.objects.for_shop(shop)
        .filter(referrer_id=referrer.pk, created_at__gt=now - dt.timedelta(days=1))
        .count()
    )
    held = today >= program.daily_limit
    try:
        with transaction.atomic():
            return Referral.objects.for_shop(shop).create(
                shop=shop,
                referrer=referrer,
                referee=referee,
                code=normal,
                status=ReferralStatus.HELD if held else ReferralStatus.PENDING,
                hold_reason="burst" if held else "",
                device_bidx=_device_bidx(shop=shop, device_id=device),
                created_at=now,
            )
    except IntegrityError as exc:  # a concurrent registration of the same referee
        raise _refuse("already_referred") from exc


def _pay(*, shop: Shop, referral: Referral, program: ReferralProgram, now: dt.datetime) -> None:
    sides = (
        ("referrer", referral.referrer, program.referrer_points, program.referrer_coupon),
        ("referee", referral.referee, program.referee_points, program.referee_coupon),
    )
    for side, customer, points, template in sides:
        if points:
            points_bonus(
                shop=shop,
                customer=customer,
                points=points,
                reason=f"referral #{referral.pk} ({side})",
                now=now,
            )
        if template is not None:
            try:
                with transaction.atomic():
                    coupon_issue(
                        shop=shop,
                        template=template,
                        customer=customer,
                        source=CouponSource.REFERRAL,
                        source_ref=f"referral:{referral.pk}:{side}",
                        now=now,
                    )
            except CouponError as exc:
                # A template switched off or past its dates since the programme was set: the
                # points (if any) are still paid; the overview page shows the template's state.
                if exc.code not in ("template_inactive", "template_expired", "limit_reached"):
                    raise


@transaction.atomic
def referrals_reward_for_purchases(
    *, shop: Shop, purchase_ids: Sequence[int], now: dt.datetime | None = None
) -> int:
    """Reward the referrals whose referee has a paid purchase among these. Call after
    purchases are created; idempotent (a referral is rewarded once, ever). Held and rejected
    referrals are left alone. Returns the referrals rewarded."""
    now = now or timezone.now()
    ids = sorted({int(i) for i in purchase_ids})
    if not ids:
        return 0
    found = list(
        Purchase.unscoped.filter(shop_id=shop.pk, pk__in=ids)
        .order_by("occurred_at", "pk")
        .values_list("pk", "customer_id", "status")
    )
    if len(found) != len(ids):
        raise ReferralError(
            "foreign_purchase", "이 매장의 구매가 아닙니다", "A purchase is not this shop's."
        )
    first_paid: dict[int, int] = {}
    for pk, customer_id, status in found:
        if customer_id is not None and status == PurchaseStatus.PAID:
            first_paid.setdefault(customer_id, pk)
    if not first_paid:
        return 0
    program = (
        ReferralProgram.objects.for_shop(shop)
        .select_related("referrer_coupon", "referee_coupon")
        .first()
    )
    if program is None or not program.active:
        return 0
    due = list(
        Referral.objects.for_shop(shop)
        .filter(referee_id__in=list(first_paid), status=ReferralStatus.PENDING)
        .select_related("referrer", "referee")
        .order_by("pk")
    )
    paid = 0
    for referral in due:
        purchase_id = first_paid[referral.referee_id]
        won = (
            Referral.objects.for_shop(shop)
            .filter(pk=referral.pk, status=ReferralStatus.PENDING)
            .update(status=ReferralStatus.REWARDED, rewarded_at=now, purchase_id=purchase_id)
        )
        if won != 1:
            continue  # another call rewarded it first
        _pay(shop=shop, referral=referral, program=program, now=now)
        paid += 1
    return paid


@transaction.atomic
def referral_review(
    *, shop: Shop, referral: Referral, approve: bool, user: Any, now: dt.datetime | None = None
) -> Referral:
    """The owner approves or rejects a held referral. An approved one is rewarded at once if
    the referee has already paid for a purchase, otherwise on the first one."""
    now = now or timezone.now()
    if referral is None or referral.shop_id != shop.pk:
        raise ReferralError(
            "foreign_referral", "이 매장의 추천이 아닙니다", "The referral is not this shop's."
        )
    role = None
    if getattr(user, "is_authenticated", False):
        role = (
            Membership.objects.for_shop(shop)
            .filter(user=user)
            .values_list("role", flat=True)
            .first()
        )
    if role != Role.OWNER:
        raise _refuse("owner_required")
    moved = (
        Referral.objects.for_shop(shop)
        .filter(pk=referral.pk, status=ReferralStatus.HELD)
        .update(
            status=ReferralStatus.PENDING if approve else ReferralStatus.REJECTED,
            reviewed_by=user,
            reviewed_at=now,
        )
    )
    if moved != 1:
        raise _refuse("not_held")
    if approve:
        first = (
            Purchase.unscoped.filter(
                shop_id=shop.pk, customer_id=referral.referee_id, status=PurchaseStatus.PAID
            )
            .order_by("occurred_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if first is not None:
            referrals_reward_for_purchases(shop=shop, purchase_ids=[first], now=now)
    referral.refresh_from_db()
    return referral


__all__ = [
    "REASONS",
    "referral_code_issue",
    "referral_program_set",
    "referral_register",
    "referral_review",
    "referrals_reward_for_purchases",
]
