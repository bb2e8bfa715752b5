from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from dangol.shops.models import Membership, Shop, Store


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
