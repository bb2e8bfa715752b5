"""Tenant scope: which shop the current request, task or command works for.

Scoped managers read the scope from a context variable and refuse to query without one, so a
forgotten filter fails loudly instead of leaking another shop's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from django.db import models

_current_shop_id: ContextVar[int | None] = ContextVar("dangol_shop_id", default=None)


class NoShopInScope(RuntimeError):
    """Raised when tenant data is queried with no shop in scope."""


def current_shop_id() -> int:
    shop_id = _current_shop_id.get()
    if shop_id is None:
        raise NoShopInScope(
            "No shop is in scope: wrap the code in shop_scope(shop) or use the `unscoped` manager."
        )
    return shop_id


def activate_shop(shop_id: int | None) -> Token:
    """Set the scope for code that cannot use a `with` block (middleware); pair with reset."""
    return _current_shop_id.set(shop_id)


def reset_shop(token: Token) -> None:
    _current_shop_id.reset(token)


@contextmanager
def shop_scope(shop: Any) -> Iterator[None]:
    """Put a shop (or a shop id) in scope for the duration of the block."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    if shop_id is None:
        raise NoShopInScope("Cannot scope to an unsaved shop.")
    token = activate_shop(shop_id)
    try:
        yield
    finally:
        reset_shop(token)


class ShopScopedManager(models.Manager):
    """Default manager of tenant tables: filters to the shop in scope, raises without one."""

    use_in_migrations = False

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(shop_id=current_shop_id())

    def for_shop(self, shop: Any) -> models.QuerySet:
        """Rows of an explicitly given shop (selectors, tasks, commands).

        Works without a scope, but refuses a shop other than the one in scope, so a request
        for shop A can never read shop B even through an explicit argument.
        """
        shop_id = shop if isinstance(shop, int) else shop.pk
        in_scope = _current_shop_id.get()
        if in_scope is not None and in_scope != shop_id:
            raise NoShopInScope(f"Shop {shop_id} requested while shop {in_scope} is in scope.")
        return super().get_queryset().filter(shop_id=shop_id)


class ShopScopedModel(models.Model):
    """Abstract base of every tenant table.

    `objects` (the default manager) is scoped and fails closed; `unscoped` is the explicit
    escape hatch for the platform admin, migrations and cross-shop maintenance jobs.
    """

    shop = models.ForeignKey("shops.Shop", on_delete=models.CASCADE, related_name="+")

    objects = ShopScopedManager()
    unscoped = models.Manager()  # noqa: DJ012 (a manager, not a field)

    class Meta:
        abstract = True
        # Related-object access (purchase.customer) goes through the base manager; keep it
        # unscoped so following a foreign key from an already-authorised row still works.
        base_manager_name = "unscoped"
