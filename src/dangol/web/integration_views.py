"""Owner pages of outgoing webhooks: subscriptions, the delivery log, a test event.

Views only read the form, call one service and pick the template; rules live in the
integrations app. Owners and managers only.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dangol.integrations.selectors import (
    webhook_attempt_list,
    webhook_delivery_list,
    webhook_subscription_get,
    webhook_subscription_list,
)
from dangol.integrations.services import (
    WebhookError,
    webhook_subscription_create,
    webhook_subscription_deactivate,
    webhook_test_queue,
)
from dangol.shops.models import Role
from dangol.web.integration_forms import WebhookForm
from dangol.web.views import member_required

MANAGERS = (Role.OWNER, Role.MANAGER)
FIELD_OF = {
    "bad_url": "url",
    "https_required": "url",
    "private_address": "url",
    "bad_events": "event_types",
}


def _require_manager(request: HttpRequest) -> None:
    if request.membership.role not in MANAGERS:
        raise PermissionDenied(_("Only the owner or a manager can do this."))


def _said(error: WebhookError) -> str:
    return error.en if translation.get_language() == "en" else error.ko


@member_required
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    shop = request.shop
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = webhook_subscription_create(
                shop=shop,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
                user=request.user,
            )
        except WebhookError as error:
            form.add_error(FIELD_OF.get(error.code), _said(error))
        else:
            form = WebhookForm()
    status = 200 if request.method == "GET" or created else 400
    return render(
        request,
        "web/integration_webhooks.html",
        {
            "form": form,
            # Shown in this answer only: it is never readable again.
            "created": created,
            "subscriptions": webhook_subscription_list(shop=shop),
            "deliveries": webhook_delivery_list(shop=shop, limit=30),
        },
        status=status,
    )


@member_required
def webhook_detail(request: HttpRequest, subscription_id: int) -> HttpResponse:
    _require_manager(request)
    shop = request.shop
    subscription = webhook_subscription_get(shop=shop, subscription_id=subscription_id)
    deliveries = webhook_delivery_list(shop=shop, subscription=subscription, limit=50)
    attempts = webhook_attempt_list(shop=shop, delivery_ids=[d.pk for d in deliveries])
    by_delivery: dict[int, list] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    for d in deliveries:
        d.log = by_delivery.get(d.pk, [])
    return render(
        request,
        "web/integration_webhook_detail.html",
        {"subscription": subscription, "deliveries": deliveries},
    )


@member_required
@require_POST
def webhook_deactivate(request: HttpRequest, subscription_id: int) -> HttpResponse:
    _require_manager(request)
    subscription = webhook_subscription_get(shop=request.shop, subscription_id=subscription_id)
    webhook_subscription_deactivate(shop=request.shop, subscription=subscription)
    messages.success(request, _("The webhook is switched off. Nothing more will be sent to it."))
    return redirect("web:webhooks")


@member_required
@require_POST
def webhook_test(request: HttpRequest, subscription_id: int) -> HttpResponse:
    _require_manager(request)
    subscription = webhook_subscription_get(shop=request.shop, subscription_id=subscription_id)
    try:
        webhook_test_queue(shop=request.shop, subscription=subscription)
    except WebhookError as error:
        messages.error(request, _said(error))
    else:
        messages.success(
            request, _("A test event is queued; it is sent within a minute. See the log below.")
        )
    return redirect("web:webhook", subscription_id=subscription.pk)
