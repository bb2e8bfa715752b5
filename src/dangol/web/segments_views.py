"""Owner pages for segments: the list, the builder with a live count, the segment page with
members and "why is this customer here", and archiving (the CSV export is in
segment_export_views)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangol.core.phone import mask_phone
from dangol.customers.selectors import customer_get, customer_list
from dangol.segments.builtins import BUILTINS
from dangol.segments.models import Segment
from dangol.segments.rules import RuleError
from dangol.segments.selectors import (
    segment_get,
    segment_history,
    segment_list,
    segment_members,
    segment_preview,
    segment_trends,
    segment_warnings,
    segment_why,
)
from dangol.segments.services import (
    SegmentError,
    segment_archive,
    segment_builtins_install,
    segment_copy,
    segment_create,
    segment_update,
    shop_segments_refresh,
)
from dangol.shops.models import Role
from dangol.web.charts import sparkline
from dangol.web.forms import SegmentForm
from dangol.web.segment_rules import (
    Builder,
    ShopOptions,
    builder_from_post,
    builder_from_rule,
    condition_groups,
    describe_rule,
    empty_builder,
    pick,
)
from dangol.web.views import member_required

PAGE_SIZE = 25
# Built-ins in the order the pack lists them (VIP, regulars, ... then the RFM groups).
PACK_ORDER = {b.key: i for i, b in enumerate(BUILTINS)}
HISTORY_SIZE = 20

audit = logging.getLogger("dangol.audit")


def can_manage(request: HttpRequest) -> bool:
    """Owners and managers build, change, archive and export segments; staff can look."""
    return request.membership.role in (Role.OWNER, Role.MANAGER)


def require_manager(request: HttpRequest) -> None:
    if not can_manage(request):
        raise PermissionDenied(_("Only the owner or a manager can do this."))


# ── list ───────────────────────────────────────────────────────────────────────────────────


@member_required
def segments(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    archived = request.GET.get("archived") == "1"
    listed = list(segment_list(shop=shop, archived=archived))
    if not listed and not archived:
        # First visit: the built-in pack appears (idempotent); counting waits for the button.
        segment_builtins_install(shop=shop)
        listed = list(segment_list(shop=shop))
    trends = segment_trends(shop=shop, segments=listed)
    rows = [
        {"segment": s, "builtin": bool(s.builtin_key), "trend": sparkline(trends.get(s.pk, []))}
        for s in listed
    ]
    return render(
        request,
        "web/segments.html",
        {
            "own": [r for r in rows if not r["builtin"]],
            "builtins": sorted(
                (r for r in rows if r["builtin"]),
                key=lambda r: PACK_ORDER.get(r["segment"].builtin_key, len(PACK_ORDER)),
            ),
            "archived": archived,
            "archived_count": 0 if archived else segment_list(shop=shop, archived=True).count(),
            "never_counted": any(s.refreshed_at is None for s in listed),
            "can_manage": can_manage(request),
            "nav": "segments",
        },
    )


@member_required
@require_POST
def segments_refresh(request: HttpRequest) -> HttpResponse:
    require_manager(request)
    n = shop_segments_refresh(shop=request.shop)
    messages.success(request, _("Counted the members of %(n)s segments.") % {"n": n})
    return redirect("web:segments")


# ── builder ────────────────────────────────────────────────────────────────────────────────


def _builder_page(
    request: HttpRequest,
    *,
    segment: Segment | None,
    form: SegmentForm,
    builder: Builder | None,
    status: int = 200,
) -> HttpResponse:
    sentence, problems = describe_rule(segment.rule) if segment else (None, [])
    return render(
        request,
        "web/segment_builder.html",
        {
            "segment": segment,
            "form": form,
            "builder": builder,
            "sentence": sentence,
            "rule_problems": problems,
            "groups": condition_groups(),
            "nav": "segments",
        },
        status=status,
    )


def _builder(request: HttpRequest, *, segment: Segment | None) -> HttpResponse:
    options = ShopOptions(request.shop)
    if request.method == "GET":
        if segment is None:
            return _builder_page(request, segment=None, form=SegmentForm(), builder=empty_builder())
        builder = builder_from_rule(segment.rule, shop=options)
        form = SegmentForm(
            initial={
                "name": segment.name,
                "description": segment.description,
                "match": builder.match if builder else "all",
            }
        )
        return _builder_page(request, segment=segment, form=form, builder=builder)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])

    builder = builder_from_post(request.POST, shop=options)
    op = request.POST.get("op", "save")
    if op != "save":  # add or remove a row, or redraw a row for a newly picked condition
        builder.errors = []
        if op == "add":
            builder.add_row()
        elif op.startswith("remove-") and op[7:].isdigit():
            builder.remove_row(int(op[7:]))
            if not builder.rows:
                builder.add_row()
        builder.renumber()
        form = SegmentForm(
            initial={
                "name": request.POST.get("name", "")[:80],
                "description": request.POST.get("description", "")[:200],
                "match": builder.match,
            }
        )
        response = _builder_page(request, segment=segment, form=form, builder=builder)
        if op.startswith("remove-"):
            response["HX-Trigger-After-Settle"] = "segment-rows-changed"
        return response

    form = SegmentForm(request.POST)
    form_ok = form.is_valid()
    rule_ok = builder.validate()
    if form_ok and rule_ok:
        data = form.cleaned_data
        try:
            if segment is None:
                segment = segment_create(
                    shop=request.shop,
                    name=data["name"],
                    description=data["description"],
                    rule=builder.rule,
                    user=request.user,
                )
            else:
                segment_update(
                    segment=segment,
                    name=data["name"],
                    description=data["description"],
                    rule=builder.rule,
                )
        except RuleError as exc:
            for problem in exc.problems:
                if problem.path in ("name", "description"):
                    form.add_error(problem.path, pick(problem.ko, problem.en))
                else:
                    builder.apply([problem])
        except SegmentError as exc:
            form.add_error(None, pick(exc.ko, exc.en))
        else:
            messages.success(request, _("Saved “%(name)s”.") % {"name": segment.name})
            return redirect("web:segment", segment_id=segment.pk)
    return _builder_page(request, segment=segment, form=form, builder=builder, status=400)


@member_required
def segment_new(request: HttpRequest) -> HttpResponse:
    require_manager(request)
    return _builder(request, segment=None)


@member_required
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segment_get(shop=request.shop, segment_id=segment_id)
    require_manager(request)
    if segment.builtin_key or segment.archived:
        # Built-ins are the shop's shared vocabulary: read-only, with a copy button.
        return _builder_page(request, segment=segment, form=SegmentForm(), builder=None)
    return _builder(request, segment=segment)


@member_required
@require_POST
def segment_preview_view(request: HttpRequest) -> HttpResponse:
    """The live count while the owner edits: count, five members, warnings, or the problems."""
    require_manager(request)
    builder = builder_from_post(request.POST, shop=ShopOptions(request.shop))
    preview = None
    if builder.validate():
        try:
            preview = segment_preview(shop=request.shop, rule=builder.rule)
        except RuleError as exc:
            builder.apply(exc.problems)
    return render(
        request,
        "web/_segment_preview.html",
        {
            "builder": builder,
            "preview": preview,
            "warnings": [pick(*w) for w in preview.warnings] if preview else [],
        },
    )


@member_required
def segment_copy_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segment_get(shop=request.shop, segment_id=segment_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    require_manager(request)
    try:
        copy = segment_copy(segment=segment, user=request.user)
    except RuleError as exc:
        messages.error(request, " ".join(pick(p.ko, p.en) for p in exc.problems))
        return redirect("web:segment", segment_id=segment.pk)
    messages.success(request, _("Copied. Change it as you like and save."))
    return redirect("web:segment_edit", segment_id=copy.pk)


@member_required
def segment_archive_view(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segment_get(shop=request.shop, segment_id=segment_id)
    require_manager(request)
    error = ""
    if request.method == "POST":
        try:
            segment_archive(segment=segment)
        except SegmentError as exc:
            error = pick(exc.ko, exc.en)
        else:
            messages.success(request, _("Archived “%(name)s”.") % {"name": segment.name})
            return redirect("web:segments")
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "web/segment_archive.html",
        {"segment": segment, "error": error, "nav": "segments"},
        status=400 if error else 200,
    )


# ── the segment page ───────────────────────────────────────────────────────────────────────


def members_with_totals(shop: Any, segment: Segment):
    """Who is in the segment now, with visits, last visit and spend (as on the customer list)."""
    ids = segment_members(shop=shop, segment=segment).order_by().values("pk")
    return customer_list(shop=shop).filter(pk__in=ids)


def _member_row(c) -> dict:
    return {
        "customer": c,
        "phone": mask_phone(c.phone),
        "visits": c.visit_count,
        "last_visit": c.last_visit,
        "spend": c.total_spend or 0,
    }


def _history(shop: Any, segment: Segment) -> list[dict]:
    events = []
    for m in segment_history(shop=shop, segment=segment, limit=HISTORY_SIZE):
        events.append({"at": m.entered_at, "entered": True, "customer": m.customer})
        if m.exited_at:
            events.append({"at": m.exited_at, "entered": False, "customer": m.customer})
    events.sort(key=lambda e: e["at"], reverse=True)
    return events[:HISTORY_SIZE]


@member_required
def segment_detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    shop = request.shop
    segment = segment_get(shop=shop, segment_id=segment_id)
    sentence, problems = describe_rule(segment.rule)
    page = None
    rows: list[dict] = []
    warnings: list[str] = []
    if sentence is not None:
        page = Paginator(members_with_totals(shop, segment), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = [_member_row(c) for c in page.object_list]
        warnings = [pick(*w) for w in segment_warnings(shop=shop, segment=segment)]
    return render(
        request,
        "web/segment_detail.html",
        {
            "segment": segment,
            "sentence": sentence,
            "rule_problems": problems,
            "page": page,
            "rows": rows,
            "warnings": warnings,
            "history": _history(shop, segment),
            "can_manage": can_manage(request),
            "nav": "segments",
        },
    )


def _shown_value(value: Any, kind: str) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool) or kind == "bool":
        return _("yes") if value else _("no")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y.%m.%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y.%m.%d")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


@member_required
def segment_why_view(request: HttpRequest, segment_id: int, customer_id: int) -> HttpResponse:
    shop = request.shop
    segment = segment_get(shop=shop, segment_id=segment_id)
    customer = customer_get(shop=shop, customer_id=customer_id)
    reasons: list[dict] = []
    problems: list[str] = []
    inside = False
    try:
        for r in segment_why(shop=shop, segment=segment, customer=customer):
            reasons.append(
                {
                    "text": pick(r.ko, r.en),
                    "value": _shown_value(r.value, r.value_kind),
                    "matched": r.matched,
                    "negated": r.negated,
                    "counts": r.matched != r.negated,
                }
            )
        inside = segment_members(shop=shop, segment=segment).filter(pk=customer.pk).exists()
    except RuleError as exc:
        problems = [pick(p.ko, p.en) for p in exc.problems]
    context = {
        "segment": segment,
        "customer": customer,
        "reasons": reasons,
        "inside": inside,
        "rule_problems": problems,
        "nav": "segments",
    }
    template = (
        "web/_segment_why.html" if request.headers.get("HX-Request") else "web/segment_why.html"
    )
    return render(request, template, context)
