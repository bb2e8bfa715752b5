from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from dangol.core.phone import normalize_phone
from dangol.shops.models import ApiKey, ApiScope, Membership, Role, Shop, Store


class ShopError(ValueError):
    pass


@transaction.atomic
def shop_create(
    *,
    name: str,
    slug: str,
    category: str,
    phone: str = "",
    optout_080: str = "",
    sender_numbers: list[str] | None = None,
    address: str = "",
    email: str = "",
) -> Shop:
    if Shop.objects.filter(slug=slug).exists():
        raise ShopError(f"이미 있는 매장 주소입니다: {slug} / A shop with slug {slug!r} exists.")
    return Shop.objects.create(
        name=name,
        slug=slug,
        category=category,
        phone=normalize_phone(phone) if phone else "",
        optout_080=optout_080,
        sender_numbers=[normalize_phone(n) for n in (sender_numbers or [])],
        address=address.strip(),
        email=email.strip(),
    )


def store_create(*, shop: Shop, code: str, name: str, address: str = "") -> Store:
    return Store.unscoped.create(shop=shop, code=code, name=name, address=address)


@transaction.atomic
def membership_grant(
    *, shop: Shop, user: AbstractBaseUser, role: str, store: Store | None = None
) -> Membership:
    if role not in Role.values:
        raise ShopError(f"알 수 없는 역할입니다: {role} / Unknown role: {role}")
    if store is not None and store.shop_id != shop.pk:
        raise ShopError("다른 매장의 지점입니다 / The store belongs to another shop.")
    membership, _ = Membership.unscoped.update_or_create(
        shop=shop, user=user, defaults={"role": role, "store": store}
    )
    return membership


@transaction.atomic
def owner_create(
    *, shop: Shop, username: str, password: str, email: str = "", reset_password: bool = False
) -> AbstractBaseUser:
    """A login that owns the shop. An existing login is reused only when asked to reset it:
    otherwise naming someone else's account would silently take it over."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, password=password, email=email)
    elif reset_password:
        user.set_password(password)
        user.save(update_fields=["password"])
    else:
        raise ShopError(
            f"이미 있는 아이디입니다: {username} / The login {username!r} already exists."
        )
    membership_grant(shop=shop, user=user, role=Role.OWNER)
    return user


# An API key: "dgk_" and 43 URL-safe characters (256 random bits). The first 12 characters
# are kept in clear to tell keys apart; the rest only as a SHA-256 hash (a key this random
# needs no slow hash: there is nothing to guess).
API_KEY_PREFIX = "dgk_"
API_KEY_SHOWN = 12
# A key's last use is written at most once a minute, not on every request.
API_KEY_TOUCH_SECONDS = 60


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def api_key_create(
    *,
    shop: Shop,
    store: Store,
    name: str,
    scopes: Iterable[str],
    created_by: AbstractBaseUser | None = None,
) -> tuple[ApiKey, str]:
    """A new key for one store; returns the key row and the key itself (shown only now)."""
    if store.shop_id != shop.pk:
        raise ShopError("다른 매장의 지점입니다 / The store belongs to another shop.")
    name = name.strip()
    if not name or len(name) > 80:
        raise ShopError("키 이름은 1~80자입니다 / A key name has 1 to 80 characters.")
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in ApiScope.values]
    if unknown or not chosen:
        raise ShopError(
            f"권한을 하나 이상 고르세요: {', '.join(ApiScope.values)} / "
            f"Choose one or more scopes: {', '.join(ApiScope.values)}"
        )
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.unscoped.create(
        shop=shop,
        store=store,
        name=name,
        prefix=raw[:API_KEY_SHOWN],
        key_hash=api_key_hash(raw),
        scopes=chosen,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, shop: Shop, api_key: ApiKey, now: dt.datetime | None = None) -> ApiKey:
    """Stop a key working at once; revoking twice keeps the first time."""
    if api_key.shop_id != shop.pk:
        raise ShopError("다른 매장의 키입니다 / The key belongs to another shop.")
    ApiKey.unscoped.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def api_key_mark_used(*, api_key: ApiKey, now: dt.datetime | None = None) -> None:
    """Record the key's last use, at most once a minute (a write per request would cost more
    than the request)."""
    now = now or timezone.now()
    last = api_key.last_used_at
    if last is not None and (now - last).total_seconds() < API_KEY_TOUCH_SECONDS:
        return
    ApiKey.unscoped.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
