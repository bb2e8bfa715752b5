from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from dangol.core.phone import normalize_phone
from dangol.shops.models import Membership, Role, Shop, Store


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
