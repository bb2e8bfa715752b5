"""Owner pages for messages: the shop's templates with a live preview of exactly what the legal
check will send, and sending a template to a segment after seeing what the check would decide
for its members right now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dangol.audit.models import AuditAction
from dangol.audit.requests import audit_for_request
from dangol.automations.selectors import FILLED, Forecast, campaign_forecast
from dangol.automations.services import campaign_send
from dangol.messaging import policy, textbytes
from dangol.messaging.models import (
    Channel,
    Kind,
    MessageTemplate,
    OutboxMessage,
)
from dangol.messaging.receipts import unsubscribe_url
from dangol.messaging.recipients import shop_identity
from dangol.messaging.services import MessagingError, template_create
from dangol.messaging.templates import PARTICLES, VARIABLES, TemplateError, check_template
from dangol.messaging.templates import render as fill
from dangol.segments.models import Segment
from dangol.segments.rules import RuleError
from dangol.segments.selectors import segment_list
from dangol.shops.models import Shop
from dangol.web.outbox_labels import reason_text
from dangol.web.segment_rules import pick
from dangol.web.segments_views import can_manage
from dangol.web.views import member_required

BODY_MAX_CHARS = 5000
# The variables a send to a segment fills in (automations.services.campaign_send); others are
# sent empty, and the send page says so.
FORECAST_SAMPLE = 200
TOP_REASONS = 5
# What a template's variables are filled with in the preview.
SAMPLE_VALUES = {
    "name": "김지민",
    "favourite_item": "아메리카노",
    "points": "1,200",
    "stamps": "7",
    "coupon_code": "DG-2K7Q",
    "coupon_expiry": "6월 30일",
    "link": "https://dgl.kr/a1",
}
# The channels a template can be written for (push has no provider yet).
TEMPLATE_CHANNELS = [
    (Channel.SMS.value, gettext_lazy("Text message (SMS/LMS)")),
    (Channel.ALIMTALK.value, gettext_lazy("KakaoTalk AlimTalk")),
    (Channel.BRAND.value, gettext_lazy("KakaoTalk Brand Message")),
    (Channel.EMAIL.value, gettext_lazy("E-mail")),
]
KIND_CHOICES = [
    (Kind.AD.value, gettext_lazy("Advertising")),
    (Kind.INFO.value, gettext_lazy("Information")),
]
SEOUL = policy.SEOUL


def _now() -> dt.datetime:
    """The moment the legal check is asked about ("now"); tests move it."""
    return timezone.now()


def _require_manager(request: HttpRequest) -> None:
    if not can_manage(request):
        raise PermissionDenied(_("Only the owner or a manager can do this."))


def _where(problem) -> str:
    return _("line %(line)s, character %(column)s") % {
        "line": problem.line,
        "column": problem.column,
    }


def _problem_text(text: str, problem) -> dict:
    """A template problem as shown next to the field: where, what, and the text around it."""
    start = max(0, problem.position - 8)
    around = text[start : problem.position + 9].replace("\n", " ")
    return {"where": _where(problem), "text": pick(problem.ko, problem.en), "around": around}


# ── the form ───────────────────────────────────────────────────────────────────────────────


class _TextField(forms.CharField):
    """A CharField whose NUL check is ours, so the error can say where the NUL is."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if type(v).__name__ != "ProhibitNullCharactersValidator"
        ]


def _control_problems(text: str) -> list[dict]:
    """Invisible control characters (NUL and the like) with their places."""
    found = []
    for i, ch in enumerate(text):
        if ord(ch) < 32 and ch not in "\n\r\t":
            line = text.count("\n", 0, i) + 1
            column = i - (text.rfind("\n", 0, i) + 1) + 1
            found.append(
                {
                    "where": _("line %(line)s, character %(column)s")
                    % {"line": line, "column": column},
                    "text": _("An invisible control character (U+%(code)04X) cannot be sent.")
                    % {"code": ord(ch)},
                    "around": "",
                }
            )
            if len(found) >= 5:
                break
    return found


class TemplateForm(forms.Form):
    name = _TextField(label=gettext_lazy("Template name"), max_length=80)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=TEMPLATE_CHANNELS, initial=Channel.SMS
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=KIND_CHOICES,
        initial=Kind.AD,
        widget=forms.RadioSelect,
        required=False,
    )
    subject = _TextField(label=gettext_lazy("Subject"), max_length=120, required=False)
    # The length is checked in clean_body, so the error can give the numbers and the place.
    body = _TextField(label=gettext_lazy("Message"), widget=forms.Textarea, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Problems with their places, per field, shown next to the field.
        self.placed: dict[str, list[dict]] = {"name": [], "subject": [], "body": []}

    def clean_kind(self) -> str:
        # Rule 1: a template is information only if the author says so; unknown is an ad.
        kind = self.cleaned_data.get("kind")
        return kind if kind in (Kind.AD, Kind.INFO) else Kind.AD

    def _check_text(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        problems = _control_problems(value)
        if not problems and name != "name":
            try:
                check_template(value)
            except TemplateError as exc:
                problems = [_problem_text(value, p) for p in exc.problems]
        if problems:
            self.placed[name] = problems
            raise forms.ValidationError(_("Fix the marked places in this field."), code="template")
        return value

    def clean_name(self) -> str:
        return self._check_text("name").strip()

    def clean_subject(self) -> str:
        return self._check_text("subject")

    def clean_body(self) -> str:
        value = self.cleaned_data.get("body", "")
        if len(value) > BODY_MAX_CHARS:
            line = value.count("\n", 0, BODY_MAX_CHARS) + 1
            column = BODY_MAX_CHARS - (value.rfind("\n", 0, BODY_MAX_CHARS) + 1) + 1
            self.placed["body"] = [
                {
                    "where": _("line %(line)s, character %(column)s")
                    % {"line": line, "column": column},
                    "text": _(
                        "The message can be at most %(limit)s characters (it has %(length)s)."
                    )
                    % {"limit": f"{BODY_MAX_CHARS:,}", "length": f"{len(value):,}"},
                    "around": "",
                }
            ]
            raise forms.ValidationError(_("Fix the marked places in this field."), code="long")
        value = self._check_text("body")
        if not value.strip():
            raise forms.ValidationError(_("Write the message."), code="required")
        return value

    def clean(self) -> dict:
        data = super().clean()
        if data.get("channel") == Channel.EMAIL and "subject" in data and not data["subject"]:
            self.add_error("subject", _("An e-mail needs a subject."))
        return data


def _template_rows(shop: Shop) -> list[MessageTemplate]:
    return list(
        MessageTemplate.objects.for_shop(shop).filter(archived=False).order_by("-created_at", "-pk")
    )


def _template_get(shop: Shop, template_id: Any) -> MessageTemplate:
    """One of this shop's live templates; anything else (another shop's id, junk) is 404."""
    try:
        pk = int(template_id)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    found = MessageTemplate.objects.for_shop(shop).filter(pk=pk, archived=False).first()
    if found is None:
        raise Http404
    return found


def _segment_get(shop: Shop, segment_id: Any) -> Segment:
    """One of this shop's live segments (404 for another shop's id)."""
    try:
        pk = int(segment_id)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    found = segment_list(shop=shop).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _excerpt(text: str, n: int = 70) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= n else one_line[: n - 1] + "…"


# ── the templates page ─────────────────────────────────────────────────────────────────────


def _templates_page(
    request: HttpRequest,
    *,
    form: TemplateForm,
    editing: MessageTemplate | None,
    status: int = 200,
) -> HttpResponse:
    rows = [
        {
            "template": t,
            "channel": dict(TEMPLATE_CHANNELS).get(t.channel, t.get_channel_display()),
            "excerpt": _excerpt(t.body),
        }
        for t in _template_rows(request.shop)
    ]
    return render(
        request,
        "web/message_templates.html",
        {
            "rows": rows,
            "form": form,
            "editing": editing,
            "variables": [
                {"token": "{" + key + "}", "label": pick(ko, en)}
                for key, (ko, en) in VARIABLES.items()
            ],
            "particles": ["{" + p + "}" for p in PARTICLES],
            "can_manage": can_manage(request),
            "nav": "messages",
        },
        status=status,
    )


@member_required
def message_templates(request: HttpRequest) -> HttpResponse:
    """List and create; ``?edit=<id>`` fills the form from a template to save a new version."""
    shop = request.shop
    editing = None
    edit_id = request.POST.get("replaces") or request.GET.get("edit")
    if edit_id:
        editing = _template_get(shop, edit_id)
    if request.method == "GET":
        initial = {"kind": Kind.AD, "channel": Channel.SMS}
        if editing is not None:
            initial = {
                "name": editing.name,
                "channel": editing.channel,
                "kind": editing.kind,
                "subject": editing.subject,
                "body": editing.body,
            }
        return _templates_page(request, form=TemplateForm(initial=initial), editing=editing)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    _require_manager(request)
    form = TemplateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                template = template_create(
                    shop=shop,
                    name=data["name"],
                    channel=data["channel"],
                    kind=data["kind"],
                    body=data["body"],
                    subject=data["subject"],
                )
                if editing is not None:
                    # A template is never changed in place: messages already queued keep the
                    # text they were written with. The new version replaces the old in lists.
                    MessageTemplate.objects.for_shop(shop).filter(pk=editing.pk).update(
                        archived=True
                    )
        except TemplateError as exc:
            form.placed["body"] = [_problem_text(data["body"], p) for p in exc.problems]
            form.add_error("body", _("Fix the marked places in this field."))
        except MessagingError as exc:
            form.add_error(exc.field or None, pick(exc.ko, exc.en))
        else:
            audit_for_request(
                request,
                action=AuditAction.CHANGE,
                object_type="message_template",
                object_id=template.pk,
                reason=f"replaces {editing.pk}" if editing is not None else "",
            )
            messages.success(request, _("Saved “%(name)s”.") % {"name": template.name})
            return redirect("web:message_templates")
    return _templates_page(request, form=form, editing=editing, status=400)


# ── the live preview ───────────────────────────────────────────────────────────────────────


def _sender(shop: Shop) -> str:
    return (shop.sender_numbers or [""])[0]


def _size(decision: policy.Decision, channel: str, subject: str) -> dict:
    """The size of the final text against the limit that applies to it, for the bar."""
    if channel == Channel.SMS:
        limit = (
            textbytes.SMS_MAX_BYTES if decision.message_type == "SMS" else textbytes.LMS_MAX_BYTES
        )
        used = decision.bytes
        unit = "bytes"
    elif channel == Channel.ALIMTALK:
        limit, used, unit = policy.ALIMTALK_MAX_CHARS, len(decision.final_body), "chars"
    else:
        return {"used": len(decision.final_body), "limit": 0, "unit": "chars", "percent": 0}
    return {
        "used": used,
        "limit": limit,
        "unit": unit,
        "percent": min(100, round(100 * used / limit)) if limit else 0,
        "over": used > limit,
        "subject_bytes": textbytes.cp949_bytes(subject),
    }


def _hold_text(hold_until: dt.datetime | None) -> str:
    if hold_until is None:
        return ""
    local = hold_until.astimezone(SEOUL)
    today = _now().astimezone(SEOUL).date()
    if local.date() == today:
        when = _("%(time)s today") % {"time": local.strftime("%H:%M")}
    elif local.date() == today + dt.timedelta(days=1):
        when = _("%(time)s tomorrow") % {"time": local.strftime("%H:%M")}
    else:
        when = local.strftime("%Y.%m.%d %H:%M")
    return _("Sent now, it would wait until %(when)s.") % {"when": when}


def _reason_rows(decision: policy.Decision) -> list[dict]:
    rows = []
    for code in decision.reasons:
        base = code.split(":", 1)[0]
        tone = (
            "block" if base in policy.BLOCK_CODES else "hold" if base in policy.HOLD_CODES else ""
        )
        rows.append({"text": reason_text(code), "tone": tone, "code": base})
    return rows


@member_required
@require_POST
def message_preview(request: HttpRequest) -> HttpResponse:
    """The final text as it will go out, to a sample customer who consented, sent right now."""
    _require_manager(request)
    shop = request.shop
    channel = request.POST.get("channel", Channel.SMS)
    if channel not in dict(TEMPLATE_CHANNELS):
        channel = Channel.SMS
    kind = request.POST.get("kind", Kind.AD)
    kind = kind if kind in (Kind.AD, Kind.INFO) else Kind.AD
    body = request.POST.get("body", "")[: BODY_MAX_CHARS + 1]
    subject = request.POST.get("subject", "")[:121]
    problems: list[dict] = []
    for text in (body, subject):
        problems += _control_problems(text)
        try:
            check_template(text)
        except TemplateError as exc:
            problems += [_problem_text(text, p) for p in exc.problems]
    context: dict[str, Any] = {"problems": problems, "channel": channel, "decision": None}
    if not problems and body.strip():
        values = {**SAMPLE_VALUES, "shop": shop.name}
        message = policy.Message(
            channel=channel,
            kind=kind,
            body=fill(body, values),
            subject=fill(subject, values),
            send_at=_now(),
            sender=_sender(shop),
            unsubscribe_url=unsubscribe_url(shop_id=shop.pk, customer_id=0, channel=channel)
            if channel == Channel.EMAIL
            else "",
        )
        family = policy.FAMILY[channel]
        decision = policy.evaluate(
            message,
            policy.Recipient(ad_consent={family: True}),
            shop_identity(shop),
            policy.PolicySettings(),
        )
        context.update(
            decision=decision,
            reasons=_reason_rows(decision),
            size=_size(decision, channel, message.subject),
            hold_text=_hold_text(decision.hold_until),
            too_long=len(body) > BODY_MAX_CHARS,
        )
    return render(request, "web/_message_preview.html", context)


# ── send to a segment ──────────────────────────────────────────────────────────────────────


def forecast(*, shop: Shop, segment: Segment, template: MessageTemplate) -> Forecast:
    try:
        return campaign_forecast(
            shop=shop,
            segment=segment,
            template=template,
            now=_now(),
            sample=FORECAST_SAMPLE,
            top_reasons=TOP_REASONS,
        )
    except RuleError as exc:
        return Forecast(problems=[pick(p.ko, p.en) for p in exc.problems])


def seoul_today() -> dt.date:
    return _now().astimezone(SEOUL).date()


def occurrence_for(template: MessageTemplate) -> str:
    """Today in Seoul and the template: pressing send twice the same day queues nothing twice."""
    return f"{seoul_today().isoformat()}:template-{template.pk}"


@member_required
def message_send(request: HttpRequest) -> HttpResponse:
    shop = request.shop
    if request.method == "POST":
        _require_manager(request)
        segment = _segment_get(shop, request.POST.get("segment"))
        template = _template_get(shop, request.POST.get("template"))
        try:
            added = campaign_send(
                shop=shop,
                segment=segment,
                template=template,
                occurrence=occurrence_for(template),
            )
        except RuleError as exc:
            messages.error(request, " ".join(pick(p.ko, p.en) for p in exc.problems))
            return redirect(
                f"{reverse('web:message_send')}?segment={segment.pk}&template={template.pk}"
            )
        audit_for_request(
            request,
            action=AuditAction.CHANGE,
            object_type="campaign",
            object_id=segment.pk,
            rows=added,
            reason=f"template {template.pk} · {occurrence_for(template)}",
        )
        messages.success(
            request,
            _(
                "Put %(n)s messages in the outbox. The legal check runs once more just before "
                "each is sent."
            )
            % {"n": f"{added:,}"},
        )
        return redirect("web:outbox")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])

    segment = _segment_get(shop, request.GET["segment"]) if request.GET.get("segment") else None
    template = _template_get(shop, request.GET["template"]) if request.GET.get("template") else None
    result = (
        forecast(shop=shop, segment=segment, template=template)
        if segment is not None and template is not None
        else None
    )
    already = 0
    unfilled: list[str] = []
    if template is not None:
        used = check_template(template.subject) + check_template(template.body)
        unfilled = sorted({"{" + v + "}" for v in used} - {"{" + v + "}" for v in FILLED})
    if segment is not None and template is not None:
        already = (
            OutboxMessage.objects.for_shop(shop)
            .filter(
                source=f"segment:{segment.pk}",
                idempotency_key__startswith=f"segment:{segment.pk}|template:{template.pk}|",
                idempotency_key__endswith=f"|{occurrence_for(template)}",
            )
            .count()
        )
    return render(
        request,
        "web/message_send.html",
        {
            "segments": list(segment_list(shop=shop)),
            "templates": _template_rows(shop),
            "segment": segment,
            "template": template,
            "template_channel": dict(TEMPLATE_CHANNELS).get(template.channel, "")
            if template
            else "",
            "forecast": result,
            "reasons": [
                {"text": reason_text(code), "n": n}
                for code, n in (result.reasons if result else [])
            ],
            "already": already,
            "unfilled": ", ".join(unfilled),
            "today": seoul_today(),
            "can_manage": can_manage(request),
            "nav": "messages",
        },
    )
