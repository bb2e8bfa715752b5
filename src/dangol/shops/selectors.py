from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from dangol.shops.models import ApiKey, Membership, Shop, Store


def membership_for_request(
    *, user: AbstractBaseUser, preferred_shop_id: int | None = None
) -> Membership | None:
    """The membership that decides a request's shop (the chosen one, else the oldest)."""
    memberships = Membership.unscoped.select_related("shop", "store").filter(user=user)
    if preferred_shop_id is not None:
        chosen = memberships.filter(shop_id=preferred_shop_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("created_at", "pk").first()


def shop_get_by_slug(*, slug: str) -> Shop | None:
    return Shop.objects.filter(slug=slug).first()


def store_list(*, shop: Shop) -> QuerySet[Store]:
    return Store.objects.for_shop(shop).order_by("name", "pk")


def api_key_list(*, shop: Shop) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_shop(shop).select_related("store").order_by("-created_at", "-pk")


def api_key_get(*, shop: Shop, key_id: int) -> ApiKey | None:
    return api_key_list(shop=shop).filter(pk=key_id).first()


def api_key_find(*, key_hash: str) -> ApiKey | None:
    """The key with this hash, of any shop (the request has no shop yet), revoked or not."""
    return ApiKey.unscoped.select_related("shop", "store").filter(key_hash=key_hash).first()
