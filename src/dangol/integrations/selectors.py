"""Reads of outgoing webhooks; every query takes the shop."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from dangol.integrations.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from dangol.shops.models import Shop


def webhook_subscription_list(*, shop: Shop) -> QuerySet:
    return (
        WebhookSubscription.objects.for_shop(shop)
        .annotate(
            queued=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.QUEUED)),
            problems=Count(
                "deliveries",
                filter=Q(deliveries__status__in=(DeliveryStatus.FAILED, DeliveryStatus.GAVE_UP)),
            ),
        )
        .order_by("-active", "-created_at", "-pk")
    )


def webhook_subscription_get(*, shop: Shop, subscription_id: int) -> WebhookSubscription:
    """The shop's subscription, or 404 (another shop's id is simply not found)."""
    return get_object_or_404(WebhookSubscription.objects.for_shop(shop), pk=subscription_id)


def webhook_delivery_list(
    *, shop: Shop, subscription: WebhookSubscription | None = None, limit: int = 50
) -> list[WebhookDelivery]:
    rows = WebhookDelivery.objects.for_shop(shop).select_related("subscription")
    if subscription is not None:
        rows = rows.filter(subscription=subscription)
    return list(rows.order_by("-created_at", "-pk")[:limit])


def webhook_attempt_list(*, shop: Shop, delivery_ids: list[int]) -> list[WebhookAttempt]:
    return list(
        WebhookAttempt.objects.for_shop(shop)
        .filter(delivery_id__in=delivery_ids)
        .order_by("delivery_id", "number", "pk")
    )
