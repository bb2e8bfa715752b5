"""The counter check-in tablet: the owner's device page, pairing, and the kiosk itself.

The kiosk needs no login: a tablet is identified by a signed cookie that pairing sets, checked
against the device's stored hash on every request, and every read and write is scoped to that
device's shop. Errors a customer can fix come back as the same screen with a message (and the
typed number kept); a lost connection is handled in the page (static/web/kiosk.js) by a retry
that sends the same tap key.
"""

from __future__ import annotations

import secrets
from functools import wraps

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from dangol.core import ratelimit
from dangol.core.phone import InvalidPhone, mask_phone, normalize_phone
from dangol.core.tenancy import shop_scope
from dangol.customers.models import IdentityKind
from dangol.customers.selectors import customer_find_by_identity
from dangol.loyalty.checkin import (
    COOKIE_SALT,
    KIOSK_OPTIONAL,
    KIOSK_REQUIRED,
    KIOSK_WORDING_VERSION,
    CheckinError,
    checkin_device_create,
    checkin_device_pair,
    checkin_device_revoke,
    checkin_device_verify,
    checkin_join,
    checkin_pin_check,
    checkin_record,
)
from dangol.loyalty.checkin_selectors import (
    checkin_device_get,
    checkin_device_list,
    loyalty_card,
)
from dangol.shops.models import Role
from dangol.shops.selectors import store_list
from dangol.web.views import member_required

KIOSK_COOKIE = "dangol_kiosk"
KIOSK_COOKIE_AGE = 60 * 60 * 24 * 365 * 3
KIOSK_LIMIT = 40  # check-ins per tablet per minute
PIN_LIMIT = 5  # wrong staff PINs per tablet per 10 minutes
PAIR_LIMIT = 20  # pairing attempts per address per minute
AMOUNT_SALT = "dangol.checkin.amount"
RETURN_AFTER_SECONDS = 6

CONSENT_TEXT = {
    "pipa_marketing": gettext_lazy(
        "Use my phone number and visit history for marketing (events, offers)"
    ),
    "ad_sms": gettext_lazy("Receive advertising by SMS"),
    "ad_kakao": gettext_lazy("Receive advertising by KakaoTalk"),
    "ad_night": gettext_lazy("Also receive advertising at night (21:00–08:00)"),
}


# --- owner pages ----------------------------------------------------------------------------


def _manager(request: HttpRequest) -> None:
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in (Role.OWNER, Role.MANAGER):
        raise PermissionDenied(_("Only an owner or a manager can manage check-in tablets."))


@member_required
@require_http_methods(["GET", "POST"])
def checkin_devices(request: HttpRequest) -> HttpResponse:
    _manager(request)
    shop = request.shop
    stores = list(store_list(shop=shop))
    link = error = ""
    if request.method == "POST":
        store_id = request.POST.get("store", "")
        store = next((s for s in stores if str(s.pk) == store_id), None)
        try:
            _device, code = checkin_device_create(
                shop=shop,
                store=store,
                name=request.POST.get("name", ""),
                staff_pin=request.POST.get("pin", ""),
                user=request.user,
            )
        except CheckinError as exc:
            error = exc.ko if request.LANGUAGE_CODE == "ko" else exc.en
        else:
            link = request.build_absolute_uri(reverse("web:checkin_pair", args=[code]))
    context = {
        "nav": "settings",
        "devices": checkin_device_list(shop=shop),
        "stores": stores,
        "link": link,
        "error": error,
    }
    return render(request, "web/checkin_devices.html", context, status=400 if error else 200)


@member_required
@require_POST
def checkin_device_revoke_view(request: HttpRequest, device_id: int) -> HttpResponse:
    _manager(request)
    device = checkin_device_get(shop=request.shop, device_id=device_id)
    if device is None:
        raise Http404("no device")
    checkin_device_revoke(shop=request.shop, device=device, user=request.user)
    return redirect("web:checkin_devices")


# --- pairing --------------------------------------------------------------------------------


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _limited(*, scope: str, ident: str, limit: int, window: int = 60) -> bool:
    if ratelimit.is_limited(scope=scope, ident=ident, limit=limit):
        return True
    ratelimit.record(scope=scope, ident=ident, window_seconds=window)
    return False


@require_http_methods(["GET", "POST"])
def checkin_pair(request: HttpRequest, code: str) -> HttpResponse:
    """GET only asks (a link preview must not use the link up); POST pairs this browser."""
    if _limited(scope="checkin-pair", ident=_ip(request), limit=PAIR_LIMIT):
        return HttpResponse(status=429)
    if request.method == "GET":
        return render(request, "web/checkin_pair.html", {"code": code})
    try:
        _device, cookie = checkin_device_pair(code=code)
    except CheckinError as exc:
        raise Http404("bad link") from exc
    response = redirect("web:kiosk")
    response.set_signed_cookie(
        KIOSK_COOKIE,
        cookie,
        salt=COOKIE_SALT,
        max_age=KIOSK_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


# --- the kiosk ------------------------------------------------------------------------------


def kiosk_device(view):
    """Resolve the tablet from its cookie (refused if unknown or revoked) and scope the
    request to its shop."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        value = request.get_signed_cookie(KIOSK_COOKIE, default=None, salt=COOKIE_SALT)
        device = checkin_device_verify(token=value)
        if device is None:
            return render(request, "web/checkin_unpaired.html", status=403)
        with shop_scope(device.shop_id):
            return view(request, device, *args, **kwargs)

    return wrapper


def _screen(request: HttpRequest, device, screen: str, **context) -> HttpResponse:
    context.update(device=device, shop=device.shop, store=device.store, screen=screen)
    context.setdefault("key", secrets.token_urlsafe(16))
    template = "web/_checkin_screen.html" if request.headers.get("HX-Request") else None
    return render(request, template or "web/checkin_kiosk.html", context)


def _msg(exc: CheckinError, request: HttpRequest) -> str:
    return exc.ko if request.LANGUAGE_CODE == "ko" else exc.en


def _result(request: HttpRequest, device, checkin) -> HttpResponse:
    customer = checkin.customer
    card = loyalty_card(shop=device.shop, customer=customer)
    return _screen(
        request,
        device,
        "result",
        checkin=checkin,
        masked_phone=mask_phone(customer.phone),
        initial=(customer.name or "?")[:1],
        card=card,
        stamp_rows=stamp_rows(card),
        return_after=RETURN_AFTER_SECONDS,
    )


def stamp_rows(card) -> list[tuple]:
    """Each card's progress with one on/off dot per stamp, for the stamp-card picture."""
    return [(p, [i < p.stamps for i in range(p.card.stamps_required)]) for p in card.stamps]


def _consent_items(ticked: set[str]) -> list[dict]:
    return [{"kind": k, "text": CONSENT_TEXT[k], "ticked": k in ticked} for k in KIOSK_OPTIONAL]


@kiosk_device
@require_http_methods(["GET"])
def kiosk(request: HttpRequest, device) -> HttpResponse:
    return _screen(request, device, "pad", phone="")


@kiosk_device
@require_POST
def kiosk_checkin(request: HttpRequest, device) -> HttpResponse:
    digits = "".join(ch for ch in request.POST.get("phone", "") if ch.isdigit())[:15]
    key = request.POST.get("key", "")[:64]

    def again(message: str) -> HttpResponse:
        return _screen(request, device, "pad", phone=digits, key=key, error=message)

    if _limited(scope="kiosk", ident=str(device.pk), limit=KIOSK_LIMIT):
        return again(_("Too many check-ins on this tablet. Please wait a minute."))
    amount = 0
    amount_raw = request.POST.get("amount", "").replace(",", "").strip()
    if amount_raw:
        if ratelimit.is_limited(scope="kiosk-pin", ident=str(device.pk), limit=PIN_LIMIT):
            return again(_("Too many wrong PINs. Please wait 10 minutes."))
        if not checkin_pin_check(device=device, pin=request.POST.get("pin", "")):
            ratelimit.record(scope="kiosk-pin", ident=str(device.pk), window_seconds=600)
            return again(_("The staff PIN is not correct."))
        if not amount_raw.isdigit() or len(amount_raw) > 9:
            return again(_("Enter the amount in won, digits only."))
        amount = int(amount_raw)
    try:
        phone = normalize_phone(digits)
        customer = customer_find_by_identity(shop=device.shop, kind=IdentityKind.PHONE, value=phone)
    except InvalidPhone:
        return again(_("Please check the phone number."))
    if customer is None:
        return _screen(
            request,
            device,
            "consent",
            phone=digits,
            key=key,
            masked_phone=mask_phone(phone),
            amount_token=signing.dumps([device.pk, key, amount], salt=AMOUNT_SALT),
            items=_consent_items(set()),
            required_kind=KIOSK_REQUIRED,
            wording_version=KIOSK_WORDING_VERSION,
        )
    try:
        checkin = checkin_record(device=device, customer=customer, key=key, amount=amount)
    except CheckinError as exc:
        return again(_msg(exc, request))
    return _result(request, device, checkin)


@kiosk_device
@require_POST
def kiosk_join(request: HttpRequest, device) -> HttpResponse:
    digits = "".join(ch for ch in request.POST.get("phone", "") if ch.isdigit())[:15]
    key = request.POST.get("key", "")[:64]
    token = request.POST.get("amount_token", "")
    try:
        device_id, token_key, amount = signing.loads(token, salt=AMOUNT_SALT, max_age=600)
    except (signing.BadSignature, ValueError, TypeError):
        device_id = token_key = None
        amount = 0
    if device_id != device.pk or token_key != key or not isinstance(amount, int):
        return _screen(
            request, device, "pad", phone=digits, error=_("Please enter the number again.")
        )
    if _limited(scope="kiosk", ident=str(device.pk), limit=KIOSK_LIMIT):
        return _screen(
            request,
            device,
            "pad",
            phone=digits,
            key=key,
            error=_("Too many check-ins on this tablet. Please wait a minute."),
        )
    ticked = set(request.POST.getlist("consent"))
    referral_code = request.POST.get("referral_code", "")[:20]
    try:
        checkin = checkin_join(
            device=device,
            phone=digits,
            key=key,
            consents=ticked,
            amount=amount,
            referral_code=referral_code,
            ip_address=_ip(request) or None,
        )
    except CheckinError as exc:
        if exc.code not in ("consent_required", "invalid_consent", "referral_refused"):
            return _screen(request, device, "pad", phone=digits, key=key, error=_msg(exc, request))
        return _screen(
            request,
            device,
            "consent",
            phone=digits,
            key=key,
            masked_phone=mask_phone(normalize_phone(digits)),
            amount_token=token,
            items=_consent_items(ticked),
            required_kind=KIOSK_REQUIRED,
            wording_version=KIOSK_WORDING_VERSION,
            referral_code=referral_code,
            error=_msg(exc, request)
            if exc.code == "referral_refused"
            else _("To collect points, please agree to the required item."),
        )
    return _result(request, device, checkin)
