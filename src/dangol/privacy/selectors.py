"""Reads for privacy: requests with their deadlines, everything held about one customer, the
retention policy and its reports."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from dangol.customers.models import ConsentEvent, Customer
from dangol.loyalty.models import Coupon, PointsEntry, StampEntry
from dangol.messaging.models import OutboxMessage
from dangol.privacy.models import (
    DataSubjectRequest,
    DataSubjectRequestEvent,
    Erasure,
    RequestStatus,
    RetentionPolicy,
    RetentionRun,
)
from dangol.sales.models import Purchase
from dangol.segments.models import SegmentMembership
from dangol.shops.models import Shop


@dataclass(frozen=True)
class RequestRow:
    request: DataSubjectRequest
    days_left: int  # whole days until the answer is due (negative: overdue by that many)
    overdue: bool
    erased: bool

    @property
    def days_overdue(self) -> int:
        return max(1, -self.days_left)


def dsr_list(*, shop: Shop, now: dt.datetime | None = None) -> list[RequestRow]:
    """Open requests first, soonest due first; then the last closed ones."""
    now = now or timezone.now()
    rows = list(
        DataSubjectRequest.objects.for_shop(shop)
        .filter(status=RequestStatus.OPEN)
        .select_related("entered_by")
        .order_by("due_at", "pk")
    ) + list(
        DataSubjectRequest.objects.for_shop(shop)
        .exclude(status=RequestStatus.OPEN)
        .select_related("entered_by")
        .order_by("-completed_at", "-pk")[:50]
    )
    erased = set(
        Erasure.objects.for_shop(shop)
        .filter(customer_id__in=[r.customer_id for r in rows])
        .values_list("customer_id", flat=True)
    )
    out = []
    for r in rows:
        left = math.ceil((r.due_at - now).total_seconds() / 86400)
        overdue = r.status == RequestStatus.OPEN and r.due_at < now
        out.append(RequestRow(r, left, overdue, r.customer_id in erased))
    return out


def dsr_get(*, shop: Shop, request_id: int) -> DataSubjectRequest:
    return get_object_or_404(
        DataSubjectRequest.objects.for_shop(shop).select_related("customer"), pk=request_id
    )


def dsr_open_list(
    *, shop: Shop, customer: Customer, kind: str | None = None
) -> QuerySet[DataSubjectRequest]:
    """The customer's requests still waiting for an answer, oldest first."""
    rows = DataSubjectRequest.objects.for_shop(shop).filter(
        customer=customer, status=RequestStatus.OPEN
    )
    if kind is not None:
        rows = rows.filter(kind=kind)
    return rows.order_by("received_at", "pk")


def dsr_events(*, shop: Shop, request: DataSubjectRequest) -> QuerySet[DataSubjectRequestEvent]:
    return (
        DataSubjectRequestEvent.objects.for_shop(shop)
        .filter(request=request)
        .select_related("actor")
        .order_by("at", "pk")
    )


def _when(value: dt.datetime | dt.date | None) -> str:
    return value.isoformat() if value else ""


def customer_data_get(*, shop: Shop, customer: Customer) -> dict[str, list[dict[str, Any]]]:
    """Everything the shop holds about the customer, decrypted, one list of rows per part
    (the access download: profile, consents, purchases, points, coupons, stamps, messages,
    segment memberships)."""
    c = Customer.objects.for_shop(shop).get(pk=customer.pk)
    profile = {
        "id": c.pk,
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "birthday": _when(c.birthday),
        "birthday_calendar": c.birthday_calendar,
        "gender": c.gender,
        "created_via": c.created_via,
        "created_at": _when(c.created_at),
    }
    consents = [
        {
            "kind": e.kind,
            "granted": e.granted,
            "source": e.source,
            "wording_version": e.wording_version,
            "occurred_at": _when(e.occurred_at),
        }
        for e in ConsentEvent.objects.for_shop(shop).filter(customer=c).order_by("occurred_at")
    ]
    purchases = [
        {
            "id": p.pk,
            "occurred_at": _when(p.occurred_at),
            "store": p.store.name,
            "total": p.total,
            "discount": p.discount,
            "status": p.status,
            "items": "; ".join(f"{line.name} x{line.quantity}" for line in p.lines.all()),
        }
        for p in Purchase.objects.for_shop(shop)
        .filter(customer=c)
        .select_related("store")
        .prefetch_related("lines")
        .order_by("occurred_at")
    ]
    points = [
        {
            "occurred_at": _when(e.occurred_at),
            "kind": e.kind,
            "points": e.points,
            "expires_at": _when(e.expires_at),
            "reason": e.reason,
        }
        for e in PointsEntry.objects.for_shop(shop).filter(customer=c).order_by("occurred_at")
    ]
    coupons = [
        {
            "name": k.template.name,
            "code": k.code,
            "status": k.status,
            "issued_at": _when(k.issued_at),
            "expires_at": _when(k.expires_at),
            "redeemed_at": _when(k.redeemed_at),
        }
        for k in Coupon.objects.for_shop(shop)
        .filter(customer=c)
        .select_related("template")
        .order_by("issued_at")
    ]
    stamps = [
        {
            "card": s.card.name,
            "kind": s.kind,
            "stamps": s.stamps,
            "occurred_at": _when(s.occurred_at),
        }
        for s in StampEntry.objects.for_shop(shop)
        .filter(customer=c)
        .select_related("card")
        .order_by("occurred_at")
    ]
    messages = [
        {
            "created_at": _when(m.created_at),
            "channel": m.channel,
            "kind": m.kind,
            "status": m.status,
            "sent_at": _when(m.sent_at),
            "to": m.to_address,
            "text": m.final_body or m.body,
        }
        for m in OutboxMessage.objects.for_shop(shop).filter(customer=c).order_by("created_at")
    ]
    segments = [
        {
            "segment": s.segment.name,
            "entered_at": _when(s.entered_at),
            "exited_at": _when(s.exited_at),
        }
        for s in SegmentMembership.objects.for_shop(shop)
        .filter(customer=c)
        .select_related("segment")
        .order_by("entered_at")
    ]
    return {
        "profile": [profile],
        "consents": consents,
        "purchases": purchases,
        "points": points,
        "coupons": coupons,
        "stamps": stamps,
        "messages": messages,
        "segments": segments,
    }


def retention_policy_get(*, shop: Shop) -> RetentionPolicy | None:
    return RetentionPolicy.objects.for_shop(shop).first()


def retention_runs(*, shop: Shop, limit: int = 10) -> list[RetentionRun]:
    return list(RetentionRun.objects.for_shop(shop).order_by("-ran_at", "-pk")[:limit])
