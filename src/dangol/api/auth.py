"""API-key authentication for the POS routes: ``Authorization: Bearer dgk_…``.

The key names its shop and store; each route asks for one scope. Fails closed: no key or an
unknown or revoked key is 401, a key without the route's scope is 403, more than
``rate_limit()`` requests in a second from one key is 429 with a ``Retry-After`` header.
The limit is the ``DANGOL_API_RATE_PER_SECOND`` setting (environment variable of the same
name).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from dangol.api.errors import ApiError
from dangol.core import ratelimit
from dangol.core.tenancy import activate_shop
from dangol.shops.models import ApiKey, ApiScope
from dangol.shops.selectors import api_key_find
from dangol.shops.services import api_key_hash, api_key_mark_used

# Requests per second one key may make (a burst; the window is one second). A POS sends a
# purchase or a look-up per sale: 20 a second is far above any counter's pace.
DEFAULT_RATE_PER_SECOND = 20
# The window is one second: a refused client may try again after it.
RETRY_AFTER_SECONDS = 1
# Longest string that may be a key; anything longer is refused before hashing.
MAX_KEY_LENGTH = 200


def rate_limit() -> int:
    return int(getattr(settings, "DANGOL_API_RATE_PER_SECOND", DEFAULT_RATE_PER_SECOND))


def invalid_key() -> ApiError:
    return ApiError(
        401,
        "invalid_api_key",
        "API 키가 없거나 취소되었습니다.",
        "The API key is unknown or has been revoked.",
    )


class ApiKeyAuth(HttpBearer):
    """Authenticates a store's API key and checks that it holds ``scope``."""

    def __init__(self, scope: ApiScope | str) -> None:
        super().__init__()
        self.scope = str(scope)
        # Shown in the OpenAPI document next to the security scheme.
        self.openapi_description = f"Store API key with scope `{self.scope}`."

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | Any:
        token = token.strip()
        if not token or len(token) > MAX_KEY_LENGTH:
            raise invalid_key()
        key = api_key_find(key_hash=api_key_hash(token))
        if key is None or key.revoked_at is not None:
            raise invalid_key()
        if self.scope not in key.scopes:
            raise ApiError(
                403,
                "missing_scope",
                f"이 API 키에는 '{self.scope}' 권한이 없습니다.",
                f"This API key does not have the '{self.scope}' scope.",
                {"required_scope": self.scope, "key_scopes": list(key.scopes)},
            )
        limit = rate_limit()
        used = ratelimit.record(scope="api-key", ident=str(key.pk), window_seconds=1)
        if used > limit:
            raise ApiError(
                429,
                "too_many_requests",
                f"요청이 너무 많습니다 (키 하나에 초당 {limit}건까지).",
                f"Too many requests (at most {limit} a second per key).",
                {"limit_per_second": limit, "retry_after_seconds": RETRY_AFTER_SECONDS},
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        api_key_mark_used(api_key=key)
        request.api_key = key  # type: ignore[attr-defined]
        request.shop = key.shop  # type: ignore[attr-defined]
        request.store = key.store  # type: ignore[attr-defined]
        # The session middleware found no member; the key's shop is the scope from here on
        # (the middleware restores the previous scope when the response leaves).
        activate_shop(key.shop_id)
        return key
