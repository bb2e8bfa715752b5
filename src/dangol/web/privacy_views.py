"""The privacy page: data-subject requests with their 10-day deadline, the buttons that fulfil
them, and the retention policy with its nightly reports. Owners and managers only; the work is
done by ``dangol.privacy`` services."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dangol.customers.selectors import customer_find_by_phone, customer_get
from dangol.customers.services import CustomerError
from dangol.privacy.models import RequestKind, RequestStatus
from dangol.privacy.selectors import (
    dsr_events,
    dsr_get,
    dsr_list,
    retention_policy_get,
    retention_runs,
)
from dangol.privacy.services import (
    Correction,
    RequestError,
    RetentionError,
    dsr_correct,
    dsr_create,
    dsr_erase,
    dsr_fulfil_access,
    dsr_refuse,
    dsr_stop_processing,
    retention_policy_set,
)
from dangol.shops.models import Role
from dangol.web.privacy_forms import (
    CorrectionForm,
    EraseForm,
    RefuseForm,
    RequestForm,
    RetentionForm,
)
from dangol.web.views import member_required


def manager_required(view):
    @member_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.membership.role not in (Role.OWNER, Role.MANAGER):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _error(request: HttpRequest, exc: Exception) -> None:
    text = getattr(exc, "ko", None) or str(exc)
    messages.error(request, text)


def _page(request: HttpRequest, form: RequestForm, status: int = 200) -> HttpResponse:
    policy = retention_policy_get(shop=request.shop)
    return render(
        request,
        "web/privacy_requests.html",
        {
            "rows": dsr_list(shop=request.shop),
            "form": form,
            "retention_form": RetentionForm(
                initial={"inactive_years": policy.inactive_years if policy else None}
            ),
            "policy": policy,
            "runs": retention_runs(shop=request.shop),
            "nav": "settings",
        },
        status=status,
    )


@manager_required
@require_http_methods(["GET", "POST"])
def privacy_requests(request: HttpRequest) -> HttpResponse:
    form = RequestForm(request.POST or None)
    if request.method != "POST":
        return _page(request, form)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    customer = None
    if data.get("customer_id"):
        customer = customer_get(shop=request.shop, customer_id=data["customer_id"])
    else:
        try:
            customer = customer_find_by_phone(shop=request.shop, phone=data["phone"])
        except ValueError:
            customer = None
    if customer is None:
        form.add_error("phone", _("No customer with this phone."))
        return _page(request, form, status=400)
    created = dsr_create(
        shop=request.shop,
        customer=customer,
        kind=data["kind"],
        actor=request.user,
        notes=data.get("notes") or "",
        ip_address=_ip(request),
    )
    messages.success(request, _("The request is recorded. Answer within 10 days."))
    return redirect("web:privacy_request", request_id=created.pk)


@manager_required
def privacy_request(request: HttpRequest, request_id: int) -> HttpResponse:
    dsr = dsr_get(shop=request.shop, request_id=request_id)
    row = next((r for r in dsr_list(shop=request.shop) if r.request.pk == dsr.pk), None)
    return render(
        request,
        "web/privacy_request.html",
        {
            "dsr": dsr,
            "row": row,
            "events": dsr_events(shop=request.shop, request=dsr),
            "open": dsr.status == RequestStatus.OPEN,
            "kinds": RequestKind,
            "correction_form": CorrectionForm(),
            "refuse_form": RefuseForm(),
            "erase_form": EraseForm(),
            "nav": "settings",
        },
    )


def _open_request(request: HttpRequest, request_id: int, kind: str | None = None):
    dsr = dsr_get(shop=request.shop, request_id=request_id)
    if kind is not None and dsr.kind != kind:
        raise Http404
    return dsr


@manager_required
@require_POST
def privacy_request_access(request: HttpRequest, request_id: int) -> HttpResponse:
    dsr = _open_request(request, request_id, RequestKind.ACCESS)
    try:
        file = dsr_fulfil_access(request=dsr, actor=request.user, ip_address=_ip(request))
    except RequestError as exc:
        _error(request, exc)
        return redirect("web:privacy_request", request_id=dsr.pk)
    response = HttpResponse(file.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{file.name}"'
    response["Cache-Control"] = "no-store"
    return response


@manager_required
@require_POST
def privacy_request_correct(request: HttpRequest, request_id: int) -> HttpResponse:
    dsr = _open_request(request, request_id, RequestKind.CORRECTION)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the corrected values."))
        return redirect("web:privacy_request", request_id=dsr.pk)
    data = form.cleaned_data
    try:
        changed = dsr_correct(
            request=dsr,
            correction=Correction(
                name=data.get("name") or None,
                phone=data.get("phone") or None,
                email=data.get("email") or None,
                birthday=data.get("birthday"),
            ),
            actor=request.user,
            ip_address=_ip(request),
        )
    except (RequestError, CustomerError) as exc:
        _error(request, exc)
        return redirect("web:privacy_request", request_id=dsr.pk)
    messages.success(request, _("Corrected: %(fields)s") % {"fields": ", ".join(changed) or "-"})
    return redirect("web:privacy_request", request_id=dsr.pk)


@manager_required
@require_POST
def privacy_request_stop(request: HttpRequest, request_id: int) -> HttpResponse:
    dsr = _open_request(request, request_id, RequestKind.STOP)
    try:
        dsr_stop_processing(request=dsr, actor=request.user, ip_address=_ip(request))
    except RequestError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Processing stopped: no campaign or automation reaches them."))
    return redirect("web:privacy_request", request_id=dsr.pk)


@manager_required
@require_POST
def privacy_request_erase(request: HttpRequest, request_id: int) -> HttpResponse:
    dsr = _open_request(request, request_id, RequestKind.DELETION)
    if not EraseForm(request.POST).is_valid():
        messages.error(request, _("Tick the box to confirm the deletion."))
        return redirect("web:privacy_request", request_id=dsr.pk)
    try:
        dsr_erase(request=dsr, actor=request.user, ip_address=_ip(request))
    except RequestError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("The customer's personal data has been destroyed."))
    return redirect("web:privacy_request", request_id=dsr.pk)


@manager_required
@require_POST
def privacy_request_refuse(request: HttpRequest, request_id: int) -> HttpResponse:
    dsr = _open_request(request, request_id)
    form = RefuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A refusal needs a reason."))
        return redirect("web:privacy_request", request_id=dsr.pk)
    try:
        dsr_refuse(
            request=dsr,
            reason=form.cleaned_data["reason"],
            actor=request.user,
            ip_address=_ip(request),
        )
    except RequestError as exc:
        _error(request, exc)
    return redirect("web:privacy_request", request_id=dsr.pk)


@manager_required
@require_POST
def privacy_retention(request: HttpRequest) -> HttpResponse:
    form = RetentionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The period must be 1 to 50 years, or empty."))
        return redirect("web:privacy_requests")
    try:
        retention_policy_set(
            shop=request.shop,
            inactive_years=form.cleaned_data.get("inactive_years"),
            actor=request.user,
            ip_address=_ip(request),
        )
    except RetentionError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("The retention policy is saved."))
    return redirect("web:privacy_requests")
