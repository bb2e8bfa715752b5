"""Idle logout and the Content-Security-Policy header (docs/adr/0003-sessions.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _

LAST_SEEN = "dangol_last_seen"
# Writing the session on every request would turn each page view into a database write;
# a minute's precision is plenty for a 30-minute timeout.
TOUCH_EVERY_SECONDS = 60

# Pages load only their own scripts and styles: an injected <script> or inline handler in a
# customer's name or a template would not run even if escaping were ever missed.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response


class IdleTimeoutMiddleware:
    """Logs a signed-in user out after ``DANGOL_IDLE_MINUTES`` without a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        now = int(time.time())
        last = request.session.get(LAST_SEEN)
        idle = settings.DANGOL_IDLE_MINUTES * 60
        if last is not None and now - int(last) > idle:
            return self._expired(request)
        if last is None or now - int(last) >= TOUCH_EVERY_SECONDS:
            request.session[LAST_SEEN] = now
        return self.get_response(request)

    def _expired(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        messages.info(
            request,
            _("You were logged out after %(minutes)d minutes without activity.")
            % {"minutes": settings.DANGOL_IDLE_MINUTES},
        )
        target = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.path})}"
        if request.headers.get("HX-Request"):
            # A swapped fragment must not become a login form inside the page.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)


NEEDS_OTP = "dangol_needs_otp"
# Reachable between the password and the code: the code page itself, leaving, the language.
_OTP_OPEN = ("web:two_factor_verify", "web:logout", "set_language")


class SecondFactorMiddleware:
    """After the password, an enrolled user reaches nothing but the code page until verified.

    Guarding every request here, rather than in the login view, also covers a session whose
    password step happened before the user enrolled on another device.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        from dangol.core.twofactor import two_factor_enabled

        if NEEDS_OTP not in request.session:
            request.session[NEEDS_OTP] = two_factor_enabled(user=user)
        if not request.session[NEEDS_OTP]:
            return self.get_response(request)
        open_paths = {resolve_url(name) for name in _OTP_OPEN}
        if request.path in open_paths or request.path.startswith(settings.STATIC_URL):
            return self.get_response(request)
        target = f"{resolve_url('web:two_factor_verify')}?{urlencode({'next': request.path})}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
