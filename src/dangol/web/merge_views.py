"""The owner's merge page: likely duplicates side by side, "merge" and "not the same person",
and the merge history with "undo".

Owners and managers merge; staff cannot. The rules are in ``dangol.customers.merging``; the
merge and its purchase totals go through ``dangol.web.merge_services``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dangol.audit.models import AuditAction
from dangol.audit.requests import audit_for_request
from dangol.core.phone import mask_phone
from dangol.customers.merge_selectors import (
    merge_get,
    merge_history,
    merge_pair_get,
    merge_suggestions,
)
from dangol.customers.merging import MergeError, merge_dismissal_create
from dangol.shops.models import Role
from dangol.web.merge_services import customer_merge_with_totals, customer_unmerge_with_totals
from dangol.web.views import member_required

SUGGESTIONS = 20
HISTORY = 50


def _require_merger(request: HttpRequest) -> None:
    if request.membership.role not in (Role.OWNER, Role.MANAGER):
        raise PermissionDenied(_("Only the owner or a manager can merge customers."))


def _id(request: HttpRequest, name: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError as exc:
        raise Http404 from exc


def _side(customer) -> dict:
    return {
        "customer": customer,
        "phone": mask_phone(customer.phone) if customer.phone else "",
        "visits": getattr(customer, "visit_count", 0),
        "last_visit": getattr(customer, "last_visit", None),
    }


@member_required
@require_GET
def merges(request: HttpRequest) -> HttpResponse:
    _require_merger(request)
    suggestions = merge_suggestions(shop=request.shop, limit=SUGGESTIONS)
    history = list(merge_history(shop=request.shop, limit=HISTORY))
    audit_for_request(
        request,
        action=AuditAction.VIEW,
        object_type="merge_suggestions",
        rows=len(suggestions) * 2,
    )
    pairs = [{"keep": _side(s.keep), "merge": _side(s.merge)} for s in suggestions]
    return render(
        request, "web/merge_list.html", {"nav": "customers", "pairs": pairs, "history": history}
    )


@member_required
@require_POST
def merge_confirm(request: HttpRequest) -> HttpResponse:
    _require_merger(request)
    keep, merge = merge_pair_get(
        shop=request.shop, first_id=_id(request, "keep"), second_id=_id(request, "merge")
    )
    try:
        customer_merge_with_totals(shop=request.shop, keep=keep, merge=merge, user=request.user)
    except MergeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Merged customer #%(merge)s into #%(keep)s.") % {"merge": merge.pk, "keep": keep.pk},
        )
    return redirect("web:merges")


@member_required
@require_POST
def merge_dismiss(request: HttpRequest) -> HttpResponse:
    _require_merger(request)
    first, second = merge_pair_get(
        shop=request.shop, first_id=_id(request, "keep"), second_id=_id(request, "merge")
    )
    try:
        merge_dismissal_create(shop=request.shop, first=first, second=second, user=request.user)
    except MergeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Noted: these two will not be suggested again."))
    return redirect("web:merges")


@member_required
@require_POST
def merge_undo(request: HttpRequest, merge_id: int) -> HttpResponse:
    _require_merger(request)
    record = merge_get(shop=request.shop, merge_id=merge_id)
    try:
        customer_unmerge_with_totals(shop=request.shop, merge_record=record, user=request.user)
    except MergeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Undone: customer #%(merge)s is back. Refusals the merge recorded stay.")
            % {"merge": record.merged_id},
        )
    return redirect("web:merges")
