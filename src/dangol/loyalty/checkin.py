"""The counter check-in tablet and the customer's own page (writes).

A tablet is a ``CheckinDevice`` bound to one store. The owner (or a manager) creates it and gets
a one-time pairing link; opening the link on the tablet sets a long-lived signed cookie holding
the device id and a secret. Only sha256 hashes of the pairing and cookie secrets are stored, and
they are compared in constant time. Revoking a device refuses its cookie at once.

A check-in is idempotent by the tablet's tap key: a double tap or a retry after a network error
returns the first check-in instead of stamping twice. Without a purchase amount the visit reward
(a stamp on each per-visit card, the policy's points per visit) is given once per Seoul day; with
an amount entered by staff the check-in becomes a purchase that earns under the points policy.

The customer's own page is reached by a signed, expiring link bound to the shop and customer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from dangol.customers.models import ConsentEvent, ConsentKind, ConsentSource, CreatedVia, Customer
from dangol.customers.resolution import customer_resolve
from dangol.customers.services import (
    ConsentInput,
    CustomerError,
    CustomerInput,
    consent_record,
    customer_create,
)
from dangol.loyalty.errors import LoyaltyError
from dangol.loyalty.models import (
    Checkin,
    CheckinDevice,
    PointsEntry,
    StampCard,
    StampEntry,
    StampMode,
)
from dangol.loyalty.selectors import points_policy_at
from dangol.loyalty.services import (
    points_bonus,
    points_earn_for_purchases,
    referral_register,
    referrals_reward_for_purchases,
    stamp_add,
    stamps_award_for_purchases,
)
from dangol.loyalty.tiers import tier_earn_multipliers
from dangol.messaging.models import Channel
from dangol.messaging.services import suppression_add
from dangol.sales.models import PurchaseSource
from dangol.sales.services import LineInput, PurchaseInput, purchase_bulk_create
from dangol.shops.models import Membership, Role, Shop, Store

PAIR_VALID_HOURS = 24
MAX_AMOUNT = 10_000_000  # KRW; a typo of a few zeros is refused
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
PIN_RE = re.compile(r"^[0-9]{4,8}$")
COOKIE_SALT = "dangol.checkin.device"
PAGE_SALT = "dangol.customer-page"
PAGE_MAX_AGE = 60 * 60 * 24 * 90  # a link in a message works for 90 days
# The consent screen's wording; bump when the text on the screen changes (compliance rule 8).
KIOSK_WORDING_VERSION = "kiosk-2026-01"
# What the kiosk's consent screen offers: the required collection for the service, then the
# optional marketing boxes, each separate and unticked.
KIOSK_REQUIRED = ConsentKind.PIPA_COLLECTION
KIOSK_OPTIONAL = (
    ConsentKind.PIPA_MARKETING,
    ConsentKind.AD_SMS,
    ConsentKind.AD_KAKAO,
    ConsentKind.AD_NIGHT,
)
# Consents a customer can withdraw on their own page, and the channels each one suppresses.
WITHDRAWABLE = {
    ConsentKind.PIPA_MARKETING: (),
    ConsentKind.AD_SMS: (Channel.SMS,),
    ConsentKind.AD_KAKAO: (Channel.BRAND,),
    ConsentKind.AD_EMAIL: (Channel.EMAIL,),
    ConsentKind.AD_PUSH: (Channel.PUSH,),
    ConsentKind.AD_NIGHT: (),
}


class CheckinError(LoyaltyError):
    pass


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _same(secret: str, stored_hash: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(_hash(secret), stored_hash)


def _can_manage(*, shop: Shop, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    role = (
        Membership.objects.for_shop(shop).filter(user=user).values_list("role", flat=True).first()
    )
    return role in (Role.OWNER, Role.MANAGER)


# --- devices --------------------------------------------------------------------------------


@transaction.atomic
def checkin_device_create(
    *, shop: Shop, store: Store, name: str, staff_pin: str, user: Any
) -> tuple[CheckinDevice, str]:
    """A new tablet for a store; returns it and the one-time pairing code (shown once)."""
    if not _can_manage(shop=shop, user=user):
        raise CheckinError(
            "forbidden", "점주나 매니저만 할 수 있습니다", "Only an owner or a manager can."
        )
    if store is None or store.shop_id != shop.pk:
        raise CheckinError(
            "foreign_store", "이 매장의 지점이 아닙니다", "Store is not this shop's."
        )
    name = (name or "").strip()
    if not 1 <= len(name) <= 60:
        raise CheckinError("invalid_name", "이름은 1~60자", "A name of 1 to 60 characters.")
    if not PIN_RE.match(staff_pin or ""):
        raise CheckinError("invalid_pin", "직원 PIN은 숫자 4~8자리", "The PIN is 4 to 8 digits.")
    if CheckinDevice.objects.for_shop(shop).filter(store=store, name=name).exists():
        raise CheckinError(
            "duplicate_name", "이 지점에 같은 이름의 기기가 있습니다", "That name is taken."
        )
    secret = secrets.token_urlsafe(24)
    device = CheckinDevice.objects.for_shop(shop).create(
        shop=shop,
        store=store,
        name=name,
        pair_hash=_hash(secret),
        pair_expires_at=timezone.now() + dt.timedelta(hours=PAIR_VALID_HOURS),
        staff_pin_hash=make_password(staff_pin),
        created_by=user,
    )
    return device, f"{device.pk}-{secret}"


def _split(value: str, sep: str) -> tuple[int, str] | None:
    head, found, secret = (value or "").partition(sep)
    if not found or not head.isdigit() or not secret or len(head) > 12:
        return None
    return int(head), secret


@transaction.atomic
def checkin_device_pair(*, code: str, now: dt.datetime | None = None) -> tuple[CheckinDevice, str]:
    """Use a pairing code once: returns the device and the value of its signed cookie. An
    unknown, used, expired, revoked or foreign code gets the same error."""
    now = now or timezone.now()
    parsed = _split(code, "-")
    device = None
    if parsed is not None:
        device = (
            CheckinDevice.unscoped.select_for_update()
            .filter(pk=parsed[0], revoked_at__isnull=True, pair_expires_at__gt=now)
            .first()
        )
    if device is None or parsed is None or not _same(parsed[1], device.pair_hash):
        raise CheckinError("invalid_link", "사용할 수 없는 링크입니다", "This link cannot be used.")
    secret = secrets.token_urlsafe(32)
    device.token_hash = _hash(secret)
    device.pair_hash = ""
    device.pair_expires_at = None
    device.paired_at = now
    device.save(update_fields=["token_hash", "pair_hash", "pair_expires_at", "paired_at"])
    return device, f"{device.pk}.{secret}"


@transaction.atomic
def checkin_device_revoke(*, shop: Shop, device: CheckinDevice, user: Any) -> CheckinDevice:
    if device is None or device.shop_id != shop.pk:
        raise CheckinError("not_found", "기기를 찾을 수 없습니다", "No such device.")
    if not _can_manage(shop=shop, user=user):
        raise CheckinError(
            "forbidden", "점주나 매니저만 할 수 있습니다", "Only an owner or a manager can."
        )
    if device.revoked_at is None:
        device.revoked_at = timezone.now()
        device.token_hash = ""
        device.pair_hash = ""
        device.save(update_fields=["revoked_at", "token_hash", "pair_hash"])
    return device


def checkin_device_verify(*, token: str | None) -> CheckinDevice | None:
    """The paired, unrevoked device of a cookie value, or None."""
    parsed = _split(token or "", ".")
    if parsed is None:
        return None
    device = (
        CheckinDevice.unscoped.select_related("shop", "store")
        .filter(pk=parsed[0], revoked_at__isnull=True)
        .first()
    )
    if device is None or not _same(parsed[1], device.token_hash):
        return None
    return device


def checkin_pin_check(*, device: CheckinDevice, pin: str) -> bool:
    return bool(PIN_RE.match(pin or "")) and check_password(pin, device.staff_pin_hash)


# --- check-in -------------------------------------------------------------------------------


def _clean_key(key: str) -> str:
    key = (key or "").strip()
    if not KEY_RE.match(key):
        raise CheckinError("invalid_key", "다시 시도해 주세요", "Bad tap key; reload the page.")
    return key


def _clean_amount(amount: Any) -> int:
    ok = isinstance(amount, int) and not isinstance(amount, bool) and 0 <= amount <= MAX_AMOUNT
    if not ok:
        raise CheckinError(
            "invalid_amount", "금액은 0~1천만원", "The amount must be 0 to 10,000,000 KRW."
        )
    return amount


def _seoul_day_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _visit_reward(
    *, shop: Shop, customer: Customer, checkin: Checkin, key: str, now: dt.datetime
) -> tuple[int, int]:
    """A stamp on each per-visit card without a minimum, and the policy's points per visit."""
    stamps = 0
    cards = StampCard.objects.for_shop(shop).filter(active=True, mode=StampMode.VISIT, min_amount=0)
    for card in cards.order_by("pk"):
        entry = stamp_add(
            shop=shop, card=card, customer=customer, key=f"tab{checkin.device_id}-{key}"[:64]
        )
        stamps += entry.stamps
    points = 0
    policy = points_policy_at(shop=shop, at=now)
    if policy is not None and policy.points_per_visit > 0:
        pct = tier_earn_multipliers(shop=shop, customer_ids=[customer.pk]).get(customer.pk, 100)
        points = policy.points_per_visit * pct // 100
        if points > 0:
            points_bonus(
                shop=shop,
                customer=customer,
                points=points,
                reason=f"check-in {checkin.pk} (tablet {checkin.device_id})",
                now=now,
            )
    return stamps, points


def _purchase_reward(
    *, shop: Shop, customer: Customer, checkin: Checkin, amount: int, now: dt.datetime
) -> tuple[int, int, Any]:
    (purchase,) = purchase_bulk_create(
        shop=shop,
        rows=[
            PurchaseInput(
                store_id=checkin.store_id,
                customer_id=customer.pk,
                source=PurchaseSource.TABLET,
                external_id=f"checkin-{checkin.pk}",
                occurred_at=now,
                lines=[LineInput(product=None, name="check-in", quantity=1, unit_price=amount)],
            )
        ],
    )
    points_earn_for_purchases(shop=shop, purchase_ids=[purchase.pk], now=now)
    stamps_award_for_purchases(shop=shop, purchase_ids=[purchase.pk], now=now)
    referrals_reward_for_purchases(shop=shop, purchase_ids=[purchase.pk], now=now)
    points = (
        PointsEntry.objects.for_shop(shop)
        .filter(purchase=purchase, points__gt=0)
        .aggregate(n=Sum("points"))["n"]
        or 0
    )
    stamps = (
        StampEntry.objects.for_shop(shop)
        .filter(purchase=purchase, stamps__gt=0)
        .aggregate(n=Sum("stamps"))["n"]
        or 0
    )
    return stamps, points, purchase


@transaction.atomic
def checkin_record(
    *,
    device: CheckinDevice,
    customer: Customer,
    key: str,
    amount: int = 0,
    joined: bool = False,
    now: dt.datetime | None = None,
) -> Checkin:
    """Check a customer in at a tablet. The same tap key returns the first check-in."""
    now = now or timezone.now()
    shop = device.shop
    if customer is None or customer.shop_id != device.shop_id:
        raise CheckinError(
            "foreign_customer", "이 매장의 고객이 아닙니다", "Customer is not this shop's."
        )
    key = _clean_key(key)
    amount = _clean_amount(amount)
    checkins = Checkin.objects.for_shop(shop)
    found = checkins.filter(device=device, key=key).first()
    if found is None:
        try:
            with transaction.atomic():
                found = checkins.create(
                    shop=shop,
                    device=device,
                    store_id=device.store_id,
                    customer=customer,
                    key=key,
                    occurred_at=now,
                    joined=joined,
                    amount=amount,
                )
        except IntegrityError:
            found = checkins.get(device=device, key=key)
        else:
            if amount > 0:
                stamps, points, purchase = _purchase_reward(
                    shop=shop, customer=customer, checkin=found, amount=amount, now=now
                )
                found.purchase = purchase
            elif (
                checkins.filter(customer=customer, occurred_at__gte=_seoul_day_start(now), amount=0)
                .exclude(pk=found.pk)
                .exists()
            ):
                stamps, points = 0, 0  # the visit reward is once a day
            else:
                stamps, points = _visit_reward(
                    shop=shop, customer=customer, checkin=found, key=key, now=now
                )
            found.stamps, found.points = stamps, points
            found.save(update_fields=["stamps", "points", "purchase"])
            return found
    if found.customer_id != customer.pk:
        raise CheckinError("key_reused", "다시 시도해 주세요", "This tap key was used for another.")
    return found


@transaction.atomic
def checkin_join(
    *,
    device: CheckinDevice,
    phone: str,
    key: str,
    consents: Iterable[str],
    amount: int = 0,
    referral_code: str = "",
    ip_address: str | None = None,
    now: dt.datetime | None = None,
) -> Checkin:
    """A first visit: create the customer, record exactly the ticked consent boxes of the kiosk
    screen as evidence (wording version, tablet, address), and check in. The collection and use
    of personal data for the service is required; every marketing box is optional and never a
    condition of the service. A repeated tap finds the customer and changes no consent. A
    friend's referral code, if given, is registered with the new customer; a refused code
    refuses the whole join (nothing is created) so the customer can correct or drop it."""
    now = now or timezone.now()
    shop = device.shop
    ticked = set(consents)
    allowed = {KIOSK_REQUIRED, *KIOSK_OPTIONAL}
    if not ticked <= allowed:
        raise CheckinError("invalid_consent", "알 수 없는 동의 항목", "Unknown consent item.")
    if KIOSK_REQUIRED not in ticked:
        raise CheckinError(
            "consent_required",
            "적립하려면 필수 항목에 동의해 주세요",
            "The required item is needed to collect points.",
        )
    _clean_key(key)
    try:
        # Any phone identity of a known customer (also one attached by the POS or kept from a
        # merge), under every blind-index key: a known person is never joined twice.
        existing = customer_resolve(shop=shop, phone=phone).customer
    except ValueError as exc:
        raise CheckinError(
            "invalid_phone", "전화번호를 확인해 주세요", "Check the number."
        ) from exc
    if existing is not None:
        return checkin_record(device=device, customer=existing, key=key, amount=amount, now=now)
    digits = "".join(ch for ch in phone if ch.isdigit())
    try:
        customer = customer_create(
            shop=shop,
            data=CustomerInput(name=f"고객 {digits[-4:]}", phone=phone, home_store=device.store),
            created_via=CreatedVia.TABLET,
        )
    except CustomerError as exc:
        raise CheckinError("invalid_phone", "전화번호를 확인해 주세요", str(exc)) from exc
    evidence = f"check-in tablet {device.pk} ({device.name}), store {device.store.code}"
    for kind in [KIOSK_REQUIRED, *[k for k in KIOSK_OPTIONAL if k in ticked]]:
        consent_record(
            customer=customer,
            data=ConsentInput(
                kind=kind,
                granted=True,
                source=ConsentSource.TABLET,
                occurred_at=now,
                wording_version=KIOSK_WORDING_VERSION,
                evidence=evidence[:200],
                ip_address=ip_address,
                device=f"checkin-device:{device.pk}",
            ),
        )
    if referral_code.strip():
        try:
            referral_register(
                shop=shop,
                referee=customer,
                code=referral_code,
                device_id=f"checkin-device:{device.pk}",
                now=now,
            )
        except LoyaltyError as exc:
            raise CheckinError("referral_refused", exc.ko, exc.en) from exc
    return checkin_record(
        device=device, customer=customer, key=key, amount=amount, joined=True, now=now
    )


# --- the customer's own page ----------------------------------------------------------------


class PageLinkExpired(Exception):
    """A genuine link that is too old: answered with 410, not 404."""


def customer_page_token(*, shop_id: int, customer_id: int) -> str:
    return signing.dumps([shop_id, customer_id], salt=PAGE_SALT, compress=True)


def customer_page_url(*, shop_id: int, customer_id: int) -> str:
    token = customer_page_token(shop_id=shop_id, customer_id=customer_id)
    return f"{settings.PUBLIC_URL}/me/{token}/"


def customer_page_read(token: str, *, max_age: int = PAGE_MAX_AGE) -> tuple[int, int] | None:
    """(shop id, customer id) of a valid link; None if forged; PageLinkExpired if too old."""
    try:
        shop_id, customer_id = signing.loads(token, salt=PAGE_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise PageLinkExpired from exc
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(shop_id, int) or not isinstance(customer_id, int):
        return None
    return shop_id, customer_id


@transaction.atomic
def customer_page_withdraw(
    *, shop: Shop, customer: Customer, kind: str, ip_address: str | None = None
) -> ConsentEvent | None:
    """The customer withdrew one consent on their own page: recorded in the ledger and the
    channel suppressed at once. Returns None when it was already withdrawn."""
    if customer is None or customer.shop_id != shop.pk:
        raise CheckinError(
            "foreign_customer", "이 매장의 고객이 아닙니다", "Customer is not this shop's."
        )
    if kind not in WITHDRAWABLE:
        raise CheckinError("invalid_consent", "알 수 없는 동의 항목", "Unknown consent item.")
    latest = (
        ConsentEvent.objects.for_shop(shop)
        .filter(customer=customer, kind=kind)
        .order_by("-occurred_at", "-pk")
        .first()
    )
    if latest is not None and not latest.granted:
        return None
    for channel in WITHDRAWABLE[kind]:
        address = customer.email if channel == Channel.EMAIL else customer.phone
        if address:
            suppression_add(
                shop=shop, address=address, channel=channel, source=ConsentSource.UNSUBSCRIBE
            )
    return consent_record(
        customer=customer,
        data=ConsentInput(
            kind=kind,
            granted=False,
            source=ConsentSource.UNSUBSCRIBE,
            evidence="customer's own page (signed link)",
            ip_address=ip_address,
        ),
    )
