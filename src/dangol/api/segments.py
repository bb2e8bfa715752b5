"""Segments API: list, create, change, archive and copy segments; preview a rule live; members
(with why each one is in) and the history of entries and exits.

Handlers are thin: rules are checked by the segment engine (``parse_rule``), whose problems come
back as 422 ``invalid_rule`` with the path of each field in the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from dangol.api.errors import ApiError
from dangol.audit.models import AuditAction
from dangol.audit.requests import audit_for_request
from dangol.core.phone import mask_phone
from dangol.segments import selectors, services
from dangol.segments.models import Segment
from dangol.segments.rules import RuleError
from dangol.shops.models import Role

router = Router(tags=["segments"])

DEFAULT_PAGE = 50
MAX_PAGE = 100
# "Why" runs two small queries per condition per member: keep those pages short.
MAX_WHY_PAGE = 20
MAX_OFFSET = 1_000_000
MAX_HISTORY = 100
# At most this many rule problems are listed in one error (the total is given as well).
MAX_PROBLEMS = 50
WRITERS = {Role.OWNER, Role.MANAGER}


# ---------------------------------------------------------------- schemas


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any]


class SegmentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    rule: dict[str, Any]


class PreviewIn(Schema):
    model_config = ConfigDict(extra="forbid")

    rule: dict[str, Any]


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    builtin_key: str
    archived: bool
    member_count: int
    refreshed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    rule: dict[str, Any]


class SegmentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[SegmentOut]


class PageIn(Schema):
    limit: int = Field(DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class MembersIn(Schema):
    limit: int | None = Field(None, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    why: bool = False


class HistoryIn(Schema):
    limit: int = Field(20, ge=1, le=MAX_HISTORY)


class TextOut(Schema):
    ko: str
    en: str


class CustomerRef(Schema):
    id: int
    name: str


class PreviewOut(Schema):
    count: int
    sample: list[CustomerRef]
    warnings: list[TextOut]


class ReasonOut(Schema):
    path: str
    ko: str
    en: str
    value: Any
    value_kind: str
    matched: bool
    negated: bool


class MemberOut(Schema):
    id: int
    name: str
    phone_masked: str
    why: list[ReasonOut] | None = None


class MemberPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[MemberOut]


class HistoryOut(Schema):
    customer: CustomerRef
    entered_at: dt.datetime
    exited_at: dt.datetime | None


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}


# ---------------------------------------------------------------- helpers


def _shop(request: HttpRequest):
    shop = getattr(request, "shop", None)
    if shop is None:
        raise PermissionDenied
    return shop


def _writer_shop(request: HttpRequest):
    """The shop, for an owner or manager; staff may look but not change."""
    shop = _shop(request)
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in WRITERS:
        raise ApiError(
            403,
            "forbidden",
            "사장님이나 매니저만 세그먼트를 바꿀 수 있습니다.",
            "Only owners and managers can change segments.",
        )
    return shop


@contextmanager
def _engine_errors(segment: Segment | None = None) -> Iterator[None]:
    """The engine's refusals as API errors: a bad rule is 422, a built-in segment 409."""
    try:
        yield
    except RuleError as exc:
        problems = [
            {"path": p.path, "message_ko": p.ko, "message_en": p.en}
            for p in exc.problems[:MAX_PROBLEMS]
        ]
        raise ApiError(
            422,
            "invalid_rule",
            "세그먼트 규칙에 고칠 곳이 있습니다.",
            "The segment rule has problems.",
            {"problems": problems, "total": len(exc.problems)},
        ) from exc
    except services.SegmentError as exc:
        if exc.field:
            error = {"type": "value_error", "loc": ["body", "payload", exc.field], "msg": exc.en}
            raise ApiError(422, "invalid_input", exc.ko, exc.en, {"errors": [error]}) from exc
        code = "builtin_segment" if segment is not None and segment.builtin_key else "conflict"
        raise ApiError(409, code, exc.ko, exc.en) from exc


def _page(limit: int, offset: int, count: int, items: list) -> dict[str, Any]:
    return {"count": count, "limit": limit, "offset": offset, "items": items}


# ---------------------------------------------------------------- routes


@router.get("", response={200: SegmentPage, **ERRORS})
def segment_list(request: HttpRequest, page: Query[PageIn], archived: bool = False):
    shop = _shop(request)
    segments = selectors.segment_list(shop=shop, archived=archived)
    items = list(segments[page.offset : page.offset + page.limit])
    return _page(page.limit, page.offset, segments.count(), items)


@router.post("", response={201: SegmentOut, **WRITE_ERRORS})
def segment_create(request: HttpRequest, payload: SegmentIn):
    shop = _writer_shop(request)
    with _engine_errors():
        segment = services.segment_create(
            shop=shop,
            name=payload.name,
            description=payload.description,
            rule=payload.rule,
            user=request.user,
        )
    return Status(201, segment)


@router.post("/preview", response={200: PreviewOut, **ERRORS})
def segment_preview(request: HttpRequest, payload: PreviewIn):
    shop = _shop(request)
    with _engine_errors():
        preview = selectors.segment_preview(shop=shop, rule=payload.rule)
    return {
        "count": preview.count,
        "sample": [{"id": c.pk, "name": c.name} for c in preview.sample],
        "warnings": [{"ko": ko, "en": en} for ko, en in preview.warnings],
    }


@router.get("/{segment_id}", response={200: SegmentOut, **ERRORS})
def segment_detail(request: HttpRequest, segment_id: int):
    return selectors.segment_get(shop=_shop(request), segment_id=segment_id)


@router.put("/{segment_id}", response={200: SegmentOut, **WRITE_ERRORS})
def segment_update(request: HttpRequest, segment_id: int, payload: SegmentIn):
    segment = selectors.segment_get(shop=_writer_shop(request), segment_id=segment_id)
    with _engine_errors(segment):
        return services.segment_update(
            segment=segment,
            name=payload.name,
            description=payload.description,
            rule=payload.rule,
        )


@router.delete("/{segment_id}", response={200: SegmentOut, **WRITE_ERRORS})
def segment_archive(request: HttpRequest, segment_id: int):
    """Archive (segments are never deleted: their history stays)."""
    segment = selectors.segment_get(shop=_writer_shop(request), segment_id=segment_id)
    with _engine_errors(segment):
        return services.segment_archive(segment=segment)


@router.post("/{segment_id}/copy", response={201: SegmentOut, **WRITE_ERRORS})
def segment_copy(request: HttpRequest, segment_id: int):
    segment = selectors.segment_get(shop=_writer_shop(request), segment_id=segment_id)
    with _engine_errors(segment):
        copy = services.segment_copy(segment=segment, user=request.user)
    return Status(201, copy)


@router.get("/{segment_id}/members", response={200: MemberPage, **ERRORS})
def segment_members(request: HttpRequest, segment_id: int, page: Query[MembersIn]):
    """Who is in the segment now (the rule evaluated live); ``why=true`` adds each member's
    reasons, on pages of at most ``MAX_WHY_PAGE``."""
    shop = _shop(request)
    limit = page.limit or (MAX_WHY_PAGE if page.why else DEFAULT_PAGE)
    if page.why and limit > MAX_WHY_PAGE:
        raise ApiError(
            422,
            "invalid_input",
            f"이유를 볼 때는 한 번에 {MAX_WHY_PAGE}명까지 볼 수 있습니다.",
            f"With why, a page holds at most {MAX_WHY_PAGE} members.",
            {
                "errors": [
                    {
                        "type": "less_than_equal",
                        "loc": ["query", "limit"],
                        "msg": f"Input should be less than or equal to {MAX_WHY_PAGE} with why",
                        "ctx": {"le": MAX_WHY_PAGE},
                    }
                ]
            },
        )
    segment = selectors.segment_get(shop=shop, segment_id=segment_id)
    with _engine_errors(segment):
        members = selectors.segment_members(shop=shop, segment=segment)
        count = members.count()
        items = []
        for customer in members[page.offset : page.offset + limit]:
            item = {"id": customer.pk, "name": customer.name, "phone_masked": ""}
            if customer.phone:
                item["phone_masked"] = mask_phone(customer.phone)
            if page.why:
                reasons = selectors.segment_why(shop=shop, segment=segment, customer=customer)
                item["why"] = [r.__dict__ for r in reasons]
            items.append(item)
    audit_for_request(
        request,
        action=AuditAction.VIEW,
        object_type="segment_members",
        object_id=segment.pk,
        rows=len(items),
    )
    return _page(limit, page.offset, count, items)


@router.get("/{segment_id}/history", response={200: list[HistoryOut], **ERRORS})
def segment_history(request: HttpRequest, segment_id: int, query: Query[HistoryIn]):
    """The latest entries and exits, newest entry first (open stays have no ``exited_at``)."""
    shop = _shop(request)
    segment = selectors.segment_get(shop=shop, segment_id=segment_id)
    return [
        {
            "customer": {"id": m.customer_id, "name": m.customer.name},
            "entered_at": m.entered_at,
            "exited_at": m.exited_at,
        }
        for m in selectors.segment_history(shop=shop, segment=segment, limit=query.limit)
    ]
