"""The outbox page: every message, its status and the reasons the policy gate recorded."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dangol.audit.models import AuditAction
from dangol.audit.requests import audit_for_request
from dangol.messaging.models import Status
from dangol.messaging.selectors import outbox_counts, outbox_list
from dangol.web.outbox_labels import reason_text
from dangol.web.views import member_required

PAGE_SIZE = 30
STATUS_ORDER = (
    Status.DELIVERED,
    Status.SENT,
    Status.QUEUED,
    Status.HELD,
    Status.UNKNOWN,
    Status.BLOCKED,
    Status.FAILED,
    Status.SUPPRESSED,
)


@member_required
def outbox(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in Status.values else ""
    page = Paginator(outbox_list(shop=request.shop, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "message": m,
            "reasons": [reason_text(code) for code in m.reasons],
            "text": m.final_body or m.body,
        }
        for m in page.object_list
    ]
    # Message texts carry names: reading them is a read of personal data.
    audit_for_request(request, action=AuditAction.VIEW, object_type="outbox", rows=len(rows))
    counts = outbox_counts(shop=request.shop)
    chips = [(s.value, s.label, counts.get(s.value, 0)) for s in STATUS_ORDER]
    return render(
        request,
        "web/outbox.html",
        {"page": page, "rows": rows, "status": status, "chips": chips, "nav": "messages"},
    )
