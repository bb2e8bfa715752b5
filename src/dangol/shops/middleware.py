"""Puts the logged-in member's shop in scope for the whole request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from dangol.core.tenancy import activate_shop, reset_shop
from dangol.shops.selectors import membership_for_request

SESSION_SHOP_KEY = "dangol_shop_id"


class ShopScopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.shop = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = membership_for_request(
                user=user, preferred_shop_id=request.session.get(SESSION_SHOP_KEY)
            )
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                request.shop = membership.shop  # type: ignore[attr-defined]
        token = activate_shop(request.shop.pk if request.shop else None)  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            reset_shop(token)
