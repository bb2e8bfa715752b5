"""The owner's import wizard: upload → mapping (with confidence and overrides) → preview of the
first rows as read → check (a dry run with the validation report) → import and its counts.

Owners and managers import; staff cannot. The engine is ``dangol.imports``; these views only
call its services and selectors and draw the result."""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dangol.audit.models import AuditAction
from dangol.audit.requests import audit_for_request
from dangol.imports.models import ImportRun, ImportStatus
from dangol.imports.report import Report, report_csv
from dangol.imports.selectors import import_preview, import_run_get, import_run_list
from dangol.imports.services import (
    ImportRequestError,
    import_run,
    import_stored_bytes,
    import_upload,
)
from dangol.shops.models import Role
from dangol.web.import_display import (
    WizardState,
    changes_nothing,
    count_views,
    problem_text,
    wizard_state,
)
from dangol.web.import_forms import MAX_MB, ImportUploadForm, UploadLimit
from dangol.web.segment_rules import pick
from dangol.web.views import member_required

PAST_RUNS = 20
REPORT_ON_SCREEN = 200


def can_import(request: HttpRequest) -> bool:
    return request.membership.role in (Role.OWNER, Role.MANAGER)


def _require_importer(request: HttpRequest) -> None:
    if not can_import(request):
        raise PermissionDenied(_("Only the owner or a manager can import files."))


def _run(request: HttpRequest, run_id: int) -> ImportRun:
    _require_importer(request)
    return import_run_get(shop=request.shop, run_id=run_id)


# ── step 1: upload, and the past runs ──────────────────────────────────────────────────────


@csrf_exempt
def import_start(request: HttpRequest) -> HttpResponse:
    """The size limit is set before anything reads the request body; the CSRF check follows
    right after (inside), so a too-large file is never kept whole."""
    limit = UploadLimit(request)
    if request.method == "POST":
        # AttributeError: the body was read already; the form's size check remains.
        with contextlib.suppress(AttributeError):
            request.upload_handlers = [limit, *request.upload_handlers]
    return _import_start(request, limit)


@csrf_protect
@member_required
@require_http_methods(["GET", "POST"])
def _import_start(request: HttpRequest, limit: UploadLimit) -> HttpResponse:
    _require_importer(request)
    if request.method == "GET":
        return _start_page(request, ImportUploadForm())
    form = ImportUploadForm(request.POST, request.FILES, too_large=limit.exceeded)
    if not form.is_valid():
        return _start_page(request, form, status=400)
    kind, preset = form.cleaned_data["kind"], form.cleaned_data["preset"]
    upload = form.cleaned_data["file"]
    data = upload.read()
    look = import_preview(kind=kind, data=data, file_name=upload.name, limit=1)
    if not look.headers:  # binary, empty, a broken Excel file: say why and keep nothing
        for problem in look.problems:
            form.add_error("file", problem_text(problem))
        return _start_page(request, form, status=400)
    try:
        run = import_upload(
            shop=request.shop, kind=kind, data=data, file_name=upload.name, actor=request.user
        )
    except ImportRequestError as exc:
        form.add_error("file", pick(exc.ko, exc.en))
        return _start_page(request, form, status=400)
    url = reverse("web:import_mapping", args=[run.pk])
    return redirect(f"{url}?{urlencode({'preset': preset})}" if preset else url)


def _start_page(request: HttpRequest, form: ImportUploadForm, *, status: int = 200):
    return render(
        request,
        "web/import_start.html",
        {
            "form": form,
            "runs": [
                {"run": r, "counts": count_views(r.counts), "problems": r.report.get("errors", 0)}
                for r in import_run_list(shop=request.shop)[:PAST_RUNS]
            ],
            "max_mb": MAX_MB,
            "nav": "customers",
        },
        status=status,
    )


# ── steps 2 and 3: the mapping, and the first rows as they will be read ────────────────────


def _state(request: HttpRequest, run: ImportRun) -> WizardState:
    form = request.POST if request.method == "POST" else request.GET
    return wizard_state(
        kind=run.kind,
        data=import_stored_bytes(run=run),
        file_name=run.file_name,
        form=form,
        saved=run.mapping,
        preset=request.GET.get("preset", ""),
    )


def _gone(request: HttpRequest, exc: ImportRequestError) -> HttpResponse:
    messages.error(request, pick(exc.ko, exc.en))
    return redirect("web:import_start")


@member_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, run_id: int) -> HttpResponse:
    """GET shows the guess; a plain POST (the "update preview" button) redraws with the
    owner's choices, as the live preview does."""
    run = _run(request, run_id)
    if run.status == ImportStatus.IMPORTED:
        return redirect("web:import_result", run.pk)
    try:
        state = _state(request, run)
    except ImportRequestError as exc:
        return _gone(request, exc)
    return render(
        request,
        "web/import_mapping.html",
        {"run": run, "state": state, "nav": "customers"},
    )


@member_required
@require_http_methods(["GET", "POST"])
def import_preview_part(request: HttpRequest, run_id: int) -> HttpResponse:
    """The live part of the mapping page (columns, what is missing, the first rows)."""
    run = _run(request, run_id)
    try:
        state = _state(request, run)
    except ImportRequestError as exc:
        return _gone(request, exc)
    return render(request, "web/_import_mapping_body.html", {"run": run, "state": state})


# ── step 4: check (a dry run) and its report ───────────────────────────────────────────────


@member_required
@require_POST
def import_check(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id)
    if run.status == ImportStatus.IMPORTED:
        return redirect("web:import_result", run.pk)
    try:
        state = _state(request, run)
        import_run(
            shop=request.shop,
            kind=run.kind,
            data=import_stored_bytes(run=run),
            file_name=run.file_name,
            mapping=state.mapping,
            dry_run=True,
            actor=request.user,
            run=run,
        )
    except ImportRequestError as exc:
        return _gone(request, exc)
    return redirect("web:import_result", run.pk)


@member_required
@require_GET
def import_report_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    """The validation report as a spreadsheet; it quotes the file's cells, so it is logged."""
    run = _run(request, run_id)
    report = Report.from_dict(run.report)
    audit_for_request(
        request,
        action=AuditAction.EXPORT,
        object_type="import_report",
        object_id=run.pk,
        rows=len(report.problems),
        reason=_("Validation report of an import: %(file)s") % {"file": run.file_name},
    )
    response = HttpResponse(report_csv(report=report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-report.csv"'
    response["Cache-Control"] = "no-store"
    return response


# ── step 5: import, and the result ─────────────────────────────────────────────────────────


@member_required
@require_POST
def import_apply(request: HttpRequest, run_id: int) -> HttpResponse:
    """Imports what the check saw, with the mapping the check used. Only a checked run can be
    imported; an imported one is never run twice from here."""
    run = _run(request, run_id)
    if run.status != ImportStatus.CHECKED:
        if run.status != ImportStatus.IMPORTED:
            messages.error(request, _("Check the file first; it is imported after the check."))
        return redirect("web:import_result", run.pk)
    try:
        run = import_run(
            shop=request.shop,
            kind=run.kind,
            data=import_stored_bytes(run=run),
            file_name=run.file_name,
            mapping=run.mapping or None,
            actor=request.user,
            run=run,
        )
    except ImportRequestError as exc:
        return _gone(request, exc)
    if run.status == ImportStatus.IMPORTED:
        audit_for_request(
            request,
            action=AuditAction.CHANGE,
            object_type="import",
            object_id=run.pk,
            rows=run.counts.get("rows", 0),
            reason=f"{run.get_kind_display()}: {run.file_name}",
        )
    return redirect("web:import_result", run.pk)


@member_required
@require_GET
def import_result(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id)
    if run.status == ImportStatus.UPLOADED:
        return redirect("web:import_mapping", run.pk)
    report = run.report or {}
    problems = [
        {**p, "text": problem_text(p)} for p in report.get("problems", [])[:REPORT_ON_SCREEN]
    ]
    listed = len(report.get("problems", []))
    return render(
        request,
        "web/import_result.html",
        {
            "run": run,
            "counts": count_views(run.counts),
            "nothing_changed": changes_nothing(run.counts),
            "errors": report.get("errors", 0),
            "warnings": report.get("warnings", 0),
            "problems": problems,
            "more": report.get("errors", 0) + report.get("warnings", 0) - len(problems),
            "unlisted": report.get("unlisted", 0),
            "listed": listed,
            "step": 5 if run.status == ImportStatus.IMPORTED else 4,
            "nav": "customers",
        },
    )
