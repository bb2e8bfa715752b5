"""The owner's monthly review of the access log (고시 8조: review it at least once a month)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from dangol.audit.selectors import audit_events, audit_month_summary
from dangol.shops.models import Role
from dangol.web.views import member_required


def _month(value: str | None) -> dt.date:
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        chosen = dt.date(year, month, 1)
    except (ValueError, TypeError):
        return today.replace(day=1)
    # Nothing before the two years the log keeps, nothing after this month.
    earliest = (today - dt.timedelta(days=731)).replace(day=1)
    return min(max(chosen, earliest), today.replace(day=1))


@member_required
def audit_review(request: HttpRequest) -> HttpResponse:
    if request.membership.role != Role.OWNER:
        raise PermissionDenied
    month = _month(request.GET.get("month"))
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    page = Paginator(audit_events(shop=request.shop, month=month), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "web/audit_review.html",
        {
            "month": month,
            "previous": previous,
            "following": following if following <= timezone.localdate() else None,
            "summary": audit_month_summary(shop=request.shop, month=month),
            "page": page,
            "nav": "settings",
        },
    )
