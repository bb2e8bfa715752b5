"""Reads for messaging: the outbox as the owner sees it."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet
from django.utils import timezone

from dangol.messaging.models import OutboxMessage, Status
from dangol.shops.models import Shop


def outbox_list(*, shop: Shop, status: str = "") -> QuerySet[OutboxMessage]:
    rows = OutboxMessage.objects.for_shop(shop).select_related("customer")
    if status in Status.values:
        rows = rows.filter(status=status)
    return rows.order_by("-scheduled_for", "-pk")


def outbox_counts(*, shop: Shop, days: int = 30) -> dict[str, int]:
    since = timezone.now() - dt.timedelta(days=days)
    rows = (
        OutboxMessage.objects.for_shop(shop)
        .filter(created_at__gte=since)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}
