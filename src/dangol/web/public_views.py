"""Public endpoints that need no login: providers' webhooks and customers' unsubscribe links.

Both are rate-limited per client address, answer in plain JSON/HTML, and scope every read and
write to the one shop named by the URL (webhooks) or by the signed token (unsubscribe).
"""

from __future__ import annotations

import json
import os

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from dangol.core import ratelimit
from dangol.core.tenancy import shop_scope
from dangol.customers.models import Customer
from dangol.messaging.models import Channel
from dangol.messaging.providers import NhnAlimtalkProvider, NhnSmsProvider, SolapiProvider
from dangol.messaging.providers.base import DeliveryReport, OptOut, WebhookError
from dangol.messaging.receipts import (
    delivery_reports_apply,
    optouts_apply,
    unsubscribe_apply,
    unsubscribe_read,
)
from dangol.shops.models import Shop
from dangol.shops.selectors import shop_get_by_slug

HOOK_LIMIT = 600  # requests per client address per minute
UNSUBSCRIBE_LIMIT = 30


def _limited(request: HttpRequest, scope: str, limit: int) -> bool:
    ident = request.META.get("REMOTE_ADDR", "")
    if ratelimit.is_limited(scope=scope, ident=ident, limit=limit):
        return True
    ratelimit.record(scope=scope, ident=ident, window_seconds=60)
    return False


def _parser(provider: str, token: str):
    env = os.environ.get
    if provider == "nhn-sms":
        return NhnSmsProvider(
            env("DANGOL_NHN_SMS_APP_KEY", ""),
            env("DANGOL_NHN_SMS_SECRET_KEY", ""),
            webhook_signature=env("DANGOL_NHN_WEBHOOK_SIGNATURE", ""),
        ).parse_webhook
    if provider == "nhn-kakao":
        return NhnAlimtalkProvider(
            env("DANGOL_NHN_KAKAO_APP_KEY", ""),
            env("DANGOL_NHN_KAKAO_SECRET_KEY", ""),
            env("DANGOL_NHN_KAKAO_SENDER_KEY", ""),
            webhook_signature=env("DANGOL_NHN_WEBHOOK_SIGNATURE", ""),
        ).parse_webhook
    if provider == "solapi":
        solapi = SolapiProvider(
            env("DANGOL_SOLAPI_API_KEY", ""),
            env("DANGOL_SOLAPI_API_SECRET", ""),
            webhook_secret=env("DANGOL_SOLAPI_WEBHOOK_SECRET", ""),
        )
        return lambda body, headers: solapi.parse_webhook(body, headers, token=token)
    raise Http404(provider)


@csrf_exempt
@require_POST
def provider_webhook(
    request: HttpRequest, provider: str, slug: str, token: str = ""
) -> HttpResponse:
    """Delivery reports and 080 opt-outs. 200 once applied (providers retry until they get it),
    400 for anything that fails verification, with nothing recorded."""
    if _limited(request, "webhook", HOOK_LIMIT):
        return JsonResponse({"code": "rate_limited"}, status=429)
    shop: Shop | None = shop_get_by_slug(slug=slug)
    if shop is None:
        raise Http404(slug)
    parse = _parser(provider, token)
    try:
        items = parse(request.body, dict(request.headers))
    except WebhookError as exc:
        return JsonResponse({"code": "invalid_webhook", "message": str(exc)[:200]}, status=400)
    reports = [i for i in items if isinstance(i, DeliveryReport)]
    optouts = [i for i in items if isinstance(i, OptOut)]
    with shop_scope(shop):
        changed = delivery_reports_apply(shop=shop, reports=reports)
        refused = optouts_apply(shop=shop, optouts=optouts)
    return HttpResponse(
        json.dumps({"reports": changed, "optouts": refused}), content_type="application/json"
    )


@csrf_exempt  # RFC 8058 one-click unsubscribe is a cookie-less POST from the mail client
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if _limited(request, "unsubscribe", UNSUBSCRIBE_LIMIT):
        return HttpResponse(status=429)
    found = unsubscribe_read(token)
    if found is None:
        raise Http404("bad token")
    shop_id, customer_id, channel = found
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise Http404("no shop")
    with shop_scope(shop):
        customer = Customer.objects.for_shop(shop).filter(pk=customer_id).first()
        if customer is None:
            raise Http404("no customer")
        done = request.method == "POST"
        if done:
            unsubscribe_apply(shop=shop, customer=customer, channel=channel)
    context = {"shop": shop, "channel": Channel(channel).label, "done": done, "token": token}
    return render(request, "web/unsubscribe.html", context)
