"""Two-factor enrolment and the code step after the password; the privacy-policy page."""

from __future__ import annotations

import django_otp
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from dangol.audit.models import AuditAction
from dangol.audit.requests import audit_for_request
from dangol.core import ratelimit
from dangol.core.middleware import NEEDS_OTP
from dangol.core.privacy import privacy_processors
from dangol.core.twofactor import (
    recovery_codes_reset,
    totp_pending_get_or_create,
    totp_setup_text,
    two_factor_disable,
    two_factor_enable,
    two_factor_enabled,
    two_factor_match,
)
from dangol.shops.models import Role
from dangol.web.views import member_required

CODE_LIMIT = 5
CODE_WINDOW_SECONDS = 15 * 60


def _may_enrol(request: HttpRequest) -> None:
    if request.membership.role not in (Role.OWNER, Role.MANAGER):
        raise PermissionDenied(_("Only owners and managers can use two-factor login."))


def _code_limited(request: HttpRequest) -> bool:
    return ratelimit.is_limited(scope="otp", ident=str(request.user.pk), limit=CODE_LIMIT)


def _code_failed(request: HttpRequest) -> None:
    ratelimit.record(scope="otp", ident=str(request.user.pk), window_seconds=CODE_WINDOW_SECONDS)


@member_required
def _audit_two_factor(request: HttpRequest, what: str) -> None:
    """A change to how an owner or manager logs in goes into the shop's access log."""
    audit_for_request(
        request,
        action=AuditAction.CHANGE,
        object_type="login",
        object_id=request.user.pk,
        reason=what,
    )


def two_factor_settings(request: HttpRequest) -> HttpResponse:
    _may_enrol(request)
    user = request.user
    context: dict = {"nav": "settings"}
    if request.method == "POST":
        action = request.POST.get("action")
        code = request.POST.get("code", "")
        if _code_limited(request):
            context["error"] = _("Too many wrong codes. Try again in 15 minutes.")
        elif action == "enable":
            codes = two_factor_enable(user=user, token=code)
            if codes is None:
                _code_failed(request)
                context["error"] = _("That code is not right. Check the time on your phone.")
            else:
                device = user.totpdevice_set.get(confirmed=True)
                django_otp.login(request, device)
                request.session[NEEDS_OTP] = True
                context["recovery_codes"] = codes
                _audit_two_factor(request, "two-factor on")
        elif action in ("disable", "new_codes") and two_factor_enabled(user=user):
            if two_factor_match(user=user, code=code) is None:
                _code_failed(request)
                context["error"] = _("That code is not right. Check the time on your phone.")
            elif action == "disable":
                two_factor_disable(user=user)
                request.session[NEEDS_OTP] = False
                _audit_two_factor(request, "two-factor off")
            else:
                context["recovery_codes"] = recovery_codes_reset(user=user)
                _audit_two_factor(request, "new recovery codes")
    context["enabled"] = two_factor_enabled(user=user)
    if not context["enabled"]:
        uri, secret = totp_setup_text(device=totp_pending_get_or_create(user=user))
        context.update(otpauth_uri=uri, secret=secret)
    return render(request, "web/security_two_factor.html", context)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    target = target or resolve_url("web:home")
    if request.user.is_verified() or not two_factor_enabled(user=request.user):
        return HttpResponseRedirect(target)
    error = ""
    if request.method == "POST":
        if _code_limited(request):
            error = _("Too many wrong codes. Try again in 15 minutes.")
        else:
            device = two_factor_match(user=request.user, code=request.POST.get("code", ""))
            if device is not None:
                ratelimit.reset(scope="otp", ident=str(request.user.pk))
                django_otp.login(request, device)
                return HttpResponseRedirect(target)
            _code_failed(request)
            error = _("That code is not right. Check the time on your phone.")
    return render(request, "web/security_verify.html", {"error": error, "next": target})


@member_required
def privacy_policy(request: HttpRequest) -> HttpResponse:
    if request.membership.role != Role.OWNER:
        raise PermissionDenied
    return render(
        request,
        "web/security_privacy_policy.html",
        {
            "nav": "settings",
            "processors": privacy_processors(),
            "idle_minutes": settings.DANGOL_IDLE_MINUTES,
            "today": timezone.localdate(),
        },
    )
