"""Writes for data-subject requests (PIPA 35–37): intake, access, correction, stop processing,
deletion. Every step is an append-only request event and a row in the access log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from dangol.audit.models import AuditAction
from dangol.audit.services import audit_record
from dangol.core.phone import normalize_phone
from dangol.customers.models import (
    ConsentKind,
    ConsentSource,
    Customer,
    CustomerIdentity,
    IdentityKind,
)
from dangol.customers.search import search_tokens_for
from dangol.customers.services import (
    ConsentInput,
    CustomerError,
    consent_record,
    email_blind_index,
    phone_blind_index,
    phone_blind_indexes,
)
from dangol.messaging.models import Channel
from dangol.messaging.services import suppression_add
from dangol.privacy.erasure import customer_erase
from dangol.privacy.models import (
    ANSWER_DAYS,
    DataSubjectRequest,
    DataSubjectRequestEvent,
    Erasure,
    ErasureSource,
    RequestChannel,
    RequestKind,
    RequestStatus,
)
from dangol.privacy.selectors import customer_data_get, dsr_open_list
from dangol.shops.models import Shop

# Withdrawn on "stop processing": every marketing use of the data, on every channel.
STOP_KINDS = (
    ConsentKind.PIPA_MARKETING,
    ConsentKind.AD_SMS,
    ConsentKind.AD_KAKAO,
    ConsentKind.AD_EMAIL,
    ConsentKind.AD_PUSH,
    ConsentKind.AD_NIGHT,
)


class RequestError(ValueError):
    def __init__(self, ko: str, en: str) -> None:
        self.ko, self.en = ko, en
        super().__init__(f"{ko} / {en}")


def _event(request: DataSubjectRequest, action: str, *, actor: Any, note: str = "") -> None:
    DataSubjectRequestEvent.objects.for_shop(request.shop_id).create(
        shop_id=request.shop_id,
        request=request,
        action=action,
        note=note[:300],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _audit(
    request: DataSubjectRequest, action: str, *, actor: Any, ip_address: str | None, **fields: Any
) -> None:
    audit_record(
        shop=request.shop,
        user=actor,
        action=action,
        object_type="privacy_request",
        object_id=request.pk,
        customer_id=request.customer_id,
        ip_address=ip_address,
        via="web" if actor is not None else "task",
        **fields,
    )


def _open(request: DataSubjectRequest, kind: str) -> DataSubjectRequest:
    locked = (
        DataSubjectRequest.objects.for_shop(request.shop_id).select_for_update().get(pk=request.pk)
    )
    if locked.kind != kind:
        raise RequestError("요청 종류가 맞지 않아요.", "This request is of another kind.")
    if locked.status != RequestStatus.OPEN:
        raise RequestError("이미 처리된 요청이에요.", "This request is already closed.")
    return locked


def _close(request: DataSubjectRequest, *, notes: str, now: dt.datetime | None = None) -> None:
    request.status = RequestStatus.DONE
    request.completed_at = now or timezone.now()
    if notes:
        request.resolution_notes = (request.resolution_notes + "\n" + notes).strip()
    request.save(update_fields=["status", "completed_at", "resolution_notes"])


@transaction.atomic
def dsr_create(
    *,
    shop: Shop,
    customer: Customer,
    kind: str,
    channel: str = RequestChannel.STAFF,
    actor: Any = None,
    notes: str = "",
    received_at: dt.datetime | None = None,
    ip_address: str | None = None,
) -> DataSubjectRequest:
    """Record a request; the answer is due 10 days after it was received (시행령 41④).

    The customer's own signed page calls this with ``channel="self"`` and no actor."""
    if kind not in RequestKind.values:
        raise RequestError("알 수 없는 요청 종류예요.", "Unknown request kind.")
    if channel not in RequestChannel.values:
        raise RequestError("알 수 없는 접수 경로예요.", "Unknown request channel.")
    if customer.shop_id != shop.pk:
        raise RequestError("다른 매장의 고객이에요.", "The customer belongs to another shop.")
    received = received_at or timezone.now()
    request = DataSubjectRequest.objects.for_shop(shop).create(
        shop=shop,
        customer=customer,
        kind=kind,
        channel=channel,
        received_at=received,
        due_at=received + dt.timedelta(days=ANSWER_DAYS),
        entered_by=actor if getattr(actor, "is_authenticated", False) else None,
        resolution_notes=notes.strip(),
    )
    _event(request, "received", actor=actor, note=channel)
    _audit(request, AuditAction.CHANGE, actor=actor, ip_address=ip_address, reason="received")
    return request


# What a customer may ask for on their own page; a correction needs a conversation with the shop.
SELF_SERVICE_KINDS = (RequestKind.ACCESS, RequestKind.DELETION, RequestKind.STOP)


@transaction.atomic
def dsr_create_self(
    *, shop: Shop, customer: Customer, kind: str, ip_address: str | None = None
) -> DataSubjectRequest:
    """A request from the customer's own signed page. Asking again while the same kind of
    request is still open returns that request, so a repeated tap files nothing twice."""
    if kind not in SELF_SERVICE_KINDS:
        raise RequestError("이 페이지에서 할 수 없는 요청이에요.", "Not a request this page takes.")
    Customer.objects.for_shop(shop).select_for_update().filter(pk=customer.pk).first()
    open_request = dsr_open_list(shop=shop, customer=customer, kind=kind).first()
    if open_request is not None:
        return open_request
    return dsr_create(
        shop=shop,
        customer=customer,
        kind=kind,
        channel=RequestChannel.SELF,
        ip_address=ip_address,
    )


@dataclass(frozen=True)
class AccessFile:
    name: str
    content: bytes


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            # A cell starting with = + - @ would run as a formula in a spreadsheet.
            writer.writerow(
                {
                    k: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@\t\r" and v else v
                    for k, v in row.items()
                }
            )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@transaction.atomic
def dsr_fulfil_access(
    *, request: DataSubjectRequest, actor: Any = None, ip_address: str | None = None
) -> AccessFile:
    """Everything the shop holds about the customer as a zip (one JSON, one CSV per part);
    the download is written to the access log as 다운로드 and closes the request."""
    request = _open(request, RequestKind.ACCESS)
    data = customer_data_get(shop=request.shop, customer=request.customer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for part, rows in data.items():
            archive.writestr(f"{part}.csv", _csv(rows))
    rows = sum(len(v) for v in data.values())
    _audit(
        request,
        AuditAction.EXPORT,
        actor=actor,
        ip_address=ip_address,
        rows=rows,
        reason=f"열람 요청 #{request.pk} / access request",
    )
    _event(request, "access_download", actor=actor, note=f"{rows} rows")
    _close(request, notes="열람 자료 제공 / access file given")
    return AccessFile(
        name=f"dangol-access-{request.customer_id}-{timezone.localdate():%Y%m%d}.zip",
        content=buffer.getvalue(),
    )


@dataclass(frozen=True)
class Correction:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    birthday: dt.date | None = None


@transaction.atomic
def dsr_correct(
    *,
    request: DataSubjectRequest,
    correction: Correction,
    actor: Any = None,
    ip_address: str | None = None,
) -> list[str]:
    """Apply the corrected fields (indexes and identities follow); returns the fields changed.
    The notes name the fields, never their old or new values."""
    request = _open(request, RequestKind.CORRECTION)
    shop = request.shop
    customer = Customer.objects.for_shop(shop).select_for_update().get(pk=request.customer_id)
    changed: list[str] = []
    if correction.name is not None and correction.name.strip() != customer.name:
        if not correction.name.strip():
            raise CustomerError("이름을 입력하세요 / A name is required.", field="name")
        customer.name = correction.name.strip()
        changed.append("name")
    if correction.phone is not None and correction.phone.strip():
        try:
            phone = normalize_phone(correction.phone)
        except ValueError as exc:
            raise CustomerError(str(exc), field="phone") from exc
        if phone != customer.phone:
            taken = (
                CustomerIdentity.objects.for_shop(shop)
                .filter(
                    kind=IdentityKind.PHONE,
                    value_bidx__in=phone_blind_indexes(shop_id=shop.pk, phone_e164=phone),
                )
                .exclude(customer=customer)
                .exists()
            )
            if taken:
                raise CustomerError(
                    "이미 등록된 전화번호입니다 / A customer with this phone already exists.",
                    field="phone",
                )
            customer.phone = phone
            customer.phone_bidx = phone_blind_index(shop_id=shop.pk, phone_e164=phone)
            CustomerIdentity.objects.for_shop(shop).filter(
                customer=customer, kind=IdentityKind.PHONE
            ).delete()
            CustomerIdentity.objects.for_shop(shop).create(
                shop=shop,
                customer=customer,
                kind=IdentityKind.PHONE,
                value_bidx=customer.phone_bidx,
            )
            changed.append("phone")
    if correction.email is not None and correction.email.strip() != customer.email:
        customer.email = correction.email.strip()
        customer.email_bidx = (
            email_blind_index(shop_id=shop.pk, email=customer.email) if customer.email else ""
        )
        CustomerIdentity.objects.for_shop(shop).filter(
            customer=customer, kind=IdentityKind.EMAIL
        ).delete()
        if customer.email_bidx:
            CustomerIdentity.objects.for_shop(shop).create(
                shop=shop,
                customer=customer,
                kind=IdentityKind.EMAIL,
                value_bidx=customer.email_bidx,
            )
        changed.append("email")
    if correction.birthday is not None and correction.birthday != customer.birthday:
        customer.birthday = correction.birthday
        customer.birthday_md = correction.birthday.month * 100 + correction.birthday.day
        changed.append("birthday")
    customer.search_tokens = search_tokens_for(
        shop_id=shop.pk, name=customer.name, phone_e164=customer.phone
    )
    customer.save()
    note = ", ".join(changed) or "no change"
    _audit(request, AuditAction.CHANGE, actor=actor, ip_address=ip_address, reason=note)
    _event(request, "corrected", actor=actor, note=note)
    _close(request, notes=f"정정 / corrected: {note}")
    return changed


def processing_stop(*, shop: Shop, customer: Customer, source: str, actor: Any = None) -> int:
    """Withdraw every marketing consent in the ledger and suppress the customer's addresses on
    every channel: the gate then blocks any ad, whatever campaign or automation queues it."""
    now = timezone.now()
    for kind in STOP_KINDS:
        consent_record(
            customer=customer,
            data=ConsentInput(
                kind=kind,
                granted=False,
                source=source,
                occurred_at=now,
                wording_version="processing-stopped",
            ),
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )
    added = 0
    for channel in Channel.values:
        address = customer.email if channel == Channel.EMAIL else customer.phone
        if address:
            suppression_add(shop=shop, address=address, channel=channel, source="stop_processing")
            added += 1
    return added


@transaction.atomic
def dsr_stop_processing(
    *, request: DataSubjectRequest, actor: Any = None, ip_address: str | None = None
) -> int:
    request = _open(request, RequestKind.STOP)
    source = ConsentSource.WEB if request.channel == RequestChannel.SELF else ConsentSource.STAFF
    added = processing_stop(
        shop=request.shop, customer=request.customer, source=source, actor=actor
    )
    _audit(request, AuditAction.CHANGE, actor=actor, ip_address=ip_address, reason="stop")
    _event(request, "processing_stopped", actor=actor, note=f"{added} suppressions")
    _close(request, notes="처리정지 / processing stopped")
    return added


@transaction.atomic
def dsr_erase(
    *, request: DataSubjectRequest, actor: Any = None, ip_address: str | None = None
) -> Erasure:
    """Execute a deletion request now (the nightly task does it for any still open)."""
    request = _open(request, RequestKind.DELETION)
    erasure = customer_erase(
        shop=request.shop,
        customer=request.customer,
        source=ErasureSource.REQUEST,
        request=request,
        actor=actor,
        ip_address=ip_address,
    )
    _event(request, "erased", actor=actor)
    _close(request, notes="파기 완료 / erased")
    return erasure


@transaction.atomic
def dsr_refuse(
    *, request: DataSubjectRequest, reason: str, actor: Any = None, ip_address: str | None = None
) -> None:
    """Refuse with the reason the customer must be told (PIPA 35④, 37②)."""
    if not reason.strip():
        raise RequestError("거절 사유를 적어 주세요.", "A refusal needs a reason.")
    request = _open(request, request.kind)
    request.status = RequestStatus.REFUSED
    request.completed_at = timezone.now()
    request.resolution_notes = (request.resolution_notes + "\n" + reason.strip()).strip()
    request.save(update_fields=["status", "completed_at", "resolution_notes"])
    _audit(request, AuditAction.CHANGE, actor=actor, ip_address=ip_address, reason="refused")
    _event(request, "refused", actor=actor, note=reason)


def deletions_execute_due(*, shop: Shop) -> int:
    """Every open deletion request of the shop, executed (nightly: well within 5 days)."""
    done = 0
    due = DataSubjectRequest.objects.for_shop(shop).filter(
        kind=RequestKind.DELETION, status=RequestStatus.OPEN
    )
    for request in due.order_by("received_at", "pk"):
        dsr_erase(request=request)
        done += 1
    return done
