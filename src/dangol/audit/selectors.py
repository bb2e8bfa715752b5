"""Reads of the access log: the owner's monthly review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from dangol.audit.models import AuditEvent
from dangol.shops.models import Shop


def _month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(month.year, month.month, 1)
    end = dt.datetime(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return timezone.make_aware(start), timezone.make_aware(end)


def audit_events(*, shop: Shop, month: dt.date) -> QuerySet[AuditEvent]:
    start, end = _month_bounds(month)
    return AuditEvent.objects.for_shop(shop).filter(at__gte=start, at__lt=end).order_by("-at")


@dataclass(frozen=True)
class AccountSummary:
    username: str
    views: int
    changes: int
    deletions: int
    exports: int
    export_rows: int


def audit_month_summary(*, shop: Shop, month: dt.date) -> list[AccountSummary]:
    """Per account: how many reads, changes, deletions and exports in the month."""
    rows = (
        audit_events(shop=shop, month=month)
        .order_by()
        .values("username", "action")
        .annotate(n=Count("pk"))
    )
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["username"], {})[row["action"]] = row["n"]
    export_rows: dict[str, int] = {}
    for username, n in (
        audit_events(shop=shop, month=month).filter(action="export").values_list("username", "rows")
    ):
        export_rows[username] = export_rows.get(username, 0) + (n or 0)
    return [
        AccountSummary(
            username=username or "-",
            views=c.get("view", 0),
            changes=c.get("change", 0),
            deletions=c.get("delete", 0),
            exports=c.get("export", 0),
            export_rows=export_rows.get(username, 0),
        )
        for username, c in sorted(counts.items())
    ]
