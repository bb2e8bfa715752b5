"""The customer's own page: a signed, expiring link (in messages, on a receipt) showing points,
stamps, coupons and tier, with consent settings where each advertising consent can be withdrawn.

Rate-limited per client address. A forged link, an unknown shop and an unknown or another shop's
customer all get the same 404; a genuine link that is too old gets 410.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dangol.core import ratelimit
from dangol.core.phone import mask_phone
from dangol.core.tenancy import shop_scope
from dangol.customers.models import Customer
from dangol.customers.selectors import consent_current
from dangol.loyalty.checkin import (
    WITHDRAWABLE,
    CheckinError,
    PageLinkExpired,
    customer_page_read,
    customer_page_withdraw,
)
from dangol.loyalty.checkin_selectors import loyalty_card
from dangol.privacy.selectors import dsr_open_list
from dangol.privacy.services import SELF_SERVICE_KINDS, RequestError, dsr_create_self
from dangol.shops.models import Shop
from dangol.web.checkin_views import stamp_rows

PAGE_LIMIT = 60  # requests per client address per minute


def _limited(request: HttpRequest) -> bool:
    ident = request.META.get("REMOTE_ADDR", "")
    if ratelimit.is_limited(scope="customer-page", ident=ident, limit=PAGE_LIMIT):
        return True
    ratelimit.record(scope="customer-page", ident=ident, window_seconds=60)
    return False


def _resolve(request: HttpRequest, token: str) -> tuple[Shop, Customer] | HttpResponse:
    try:
        found = customer_page_read(token)
    except PageLinkExpired:
        return render(request, "web/checkin_me_expired.html", status=410)
    if found is None:
        raise Http404("bad token")
    shop = Shop.objects.filter(pk=found[0]).first()
    if shop is None:
        raise Http404("no shop")
    customer = Customer.objects.for_shop(shop).filter(pk=found[1], merged_into__isnull=True).first()
    if customer is None:
        raise Http404("no customer")
    return shop, customer


@require_GET
def customer_page(request: HttpRequest, token: str) -> HttpResponse:
    if _limited(request):
        return HttpResponse(status=429)
    resolved = _resolve(request, token)
    if isinstance(resolved, HttpResponse):
        return resolved
    shop, customer = resolved
    with shop_scope(shop):
        card = loyalty_card(shop=shop, customer=customer)
        consents = [c for c in consent_current(customer=customer) if c.kind in WITHDRAWABLE]
        context = {
            "shop": shop,
            "token": token,
            "initial": (customer.name or "?")[:1],
            "masked_phone": mask_phone(customer.phone),
            "card": card,
            "stamp_rows": stamp_rows(card),
            "consents": consents,
            "done": request.GET.get("done", "") in WITHDRAWABLE,
            "request_kinds": SELF_SERVICE_KINDS,
            "open_requests": list(dsr_open_list(shop=shop, customer=customer)),
            "requested": request.GET.get("requested", "") in SELF_SERVICE_KINDS,
        }
        return render(request, "web/checkin_me.html", context)


def _page_action(request: HttpRequest, token: str, act, *, param: str, anchor: str):
    """A form on the customer's own page: rate-limited, the token resolved, ``act(shop,
    customer, kind, ip)`` run in the shop's scope (its refusal is a 404, like a bad token), then
    back to the page with ``param`` saying what was done."""
    if _limited(request):
        return HttpResponse(status=429)
    resolved = _resolve(request, token)
    if isinstance(resolved, HttpResponse):
        return resolved
    shop, customer = resolved
    kind = request.POST.get("kind", "")
    with shop_scope(shop):
        try:
            act(shop, customer, kind, request.META.get("REMOTE_ADDR") or None)
        except (CheckinError, RequestError) as exc:
            raise Http404("refused") from exc
    page = reverse("web:customer_page", args=[token])
    return redirect(f"{page}?{param}={kind}#{anchor}")


@require_POST
def customer_page_consent(request: HttpRequest, token: str) -> HttpResponse:
    def withdraw(shop, customer, kind, ip):
        customer_page_withdraw(shop=shop, customer=customer, kind=kind, ip_address=ip)

    return _page_action(request, token, withdraw, param="done", anchor="consent")


@require_POST
def customer_page_request(request: HttpRequest, token: str) -> HttpResponse:
    """Access to, deletion of, or a stop to the processing of one's own data, asked from the
    signed page; the shop sees it on its request list with the 10-day deadline."""

    def file(shop, customer, kind, ip):
        dsr_create_self(shop=shop, customer=customer, kind=kind, ip_address=ip)

    return _page_action(request, token, file, param="requested", anchor="privacy")
