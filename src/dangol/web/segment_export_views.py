"""The segment's member list as a CSV file: owners and managers only, with a reason, written
to the access log."""

from __future__ import annotations

import csv
import io
import json
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils import timezone

from dangol.audit.models import AuditAction
from dangol.audit.requests import audit_for_request
from dangol.core.phone import mask_phone
from dangol.segments.models import Segment
from dangol.segments.rules import RuleError
from dangol.segments.selectors import segment_get
from dangol.web.forms import EXPORT_REASONS, SegmentExportForm
from dangol.web.segment_rules import pick
from dangol.web.segments_views import members_with_totals, require_manager
from dangol.web.views import member_required

audit = logging.getLogger("dangol.audit")

CSV_HEADER = ["이름", "전화번호(마스킹)", "방문", "마지막 방문", "총 구매액"]


def _cell(text: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; such text is quoted."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows) -> tuple[bytes, int]:
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads the Korean correctly only with the byte-order mark
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    n = 0
    for c in rows:
        last = timezone.localtime(c.last_visit).strftime("%Y-%m-%d") if c.last_visit else ""
        writer.writerow(
            [_cell(c.name or ""), mask_phone(c.phone), c.visit_count, last, c.total_spend or 0]
        )
        n += 1
    return out.getvalue().encode("utf-8"), n


def _audit_export(
    request: HttpRequest, *, segment: Segment, rows: int, form: SegmentExportForm
) -> None:
    """The export goes into the access log (table) and, as one JSON line, the audit logger."""
    reason = form.cleaned_data["reason"]
    note = form.cleaned_data["note"]
    label = str(dict(EXPORT_REASONS)[reason])
    event = audit_for_request(
        request,
        action=AuditAction.EXPORT,
        object_type="segment",
        object_id=segment.pk,
        rows=rows,
        reason=f"{label}: {note}" if note else label,
    )
    record = {
        "event": "segment.export",
        "audit_event_id": event.pk,
        "user_id": request.user.pk,
        "user": request.user.get_username(),
        "role": request.membership.role,
        "shop_id": request.shop.pk,
        "segment_id": segment.pk,
        "rows": rows,
        "reason": reason,
        "at": event.at.isoformat(),
    }
    audit.info(
        "segment.export %s",
        json.dumps(record, ensure_ascii=False, sort_keys=True),
        extra={"audit": record},
    )


@member_required
def segment_export(request: HttpRequest, segment_id: int) -> HttpResponse:
    shop = request.shop
    segment = segment_get(shop=shop, segment_id=segment_id)
    require_manager(request)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = SegmentExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            body, n = _csv(members_with_totals(shop, segment).iterator(chunk_size=2000))
        except RuleError as exc:
            form.add_error(None, " ".join(pick(p.ko, p.en) for p in exc.problems))
        else:
            _audit_export(request, segment=segment, rows=n, form=form)
            day = timezone.localdate().strftime("%Y%m%d")
            response = HttpResponse(body, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="segment-{segment.pk}-{day}.csv"'
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "web/segment_export.html",
        {"segment": segment, "form": form, "nav": "segments"},
        status=400 if request.method == "POST" else 200,
    )
