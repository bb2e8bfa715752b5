"""Erasure (파기): a customer's personal data purged irreversibly, their statistics kept.

The customer row stays as an anonymous placeholder (docs/adr/0004-erasure.md): every encrypted
column is emptied (not re-encrypted), blind indexes, search tokens, identities and the birthday
columns go, the outbox keeps only what happened (channel, kind, status, times), and stored
import files that mention the person are deleted. Opt-outs survive as hashed suppressions so a
re-imported number is still not messaged.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from dangol.audit.models import AuditAction
from dangol.audit.services import audit_record
from dangol.core.phone import format_phone
from dangol.core.rotation import encrypted_tables
from dangol.customers.models import (
    BirthdayCalendar,
    ConsentEvent,
    Customer,
    CustomerIdentity,
)
from dangol.customers.selectors import consent_current
from dangol.imports.models import ImportRun
from dangol.loyalty.models import Referral, ReferralCode
from dangol.messaging.models import Channel, OutboxEvent, OutboxMessage, Status
from dangol.messaging.services import message_events_bulk, suppression_add
from dangol.privacy.models import DataSubjectRequest, Erasure, ErasureSource
from dangol.shops.models import Shop

REDACTED = "[삭제됨]"

# Which channels an explicit withdrawal of each consent kind closes for good.
OPTOUT_CHANNELS: dict[str, tuple[str, ...]] = {
    "ad_sms": (Channel.SMS,),
    "ad_kakao": (Channel.ALIMTALK, Channel.BRAND),
    "ad_email": (Channel.EMAIL,),
    "ad_push": (Channel.PUSH,),
    "pipa_marketing": tuple(Channel.values),
}


class ErasureError(RuntimeError):
    pass


def customer_links() -> list[tuple[type[models.Model], tuple[str, ...], str]]:
    """Every table with encrypted columns and how its rows point at a customer.

    Found through the same registry walk as key rotation, so a new encrypted column is purged
    without this module knowing it; a table with encrypted columns but no link to a customer
    raises, because erasure could not reach it. A model that declares
    ``holds_personal_data = False`` (the shop's own secrets) is passed over.
    """
    out = []
    for table in encrypted_tables():
        if not getattr(table.model, "holds_personal_data", True):
            continue
        if table.model is Customer:
            out.append((table.model, table.fields, "pk"))
            continue
        links = [
            f.name
            for f in table.model._meta.concrete_fields
            if isinstance(f, models.ForeignKey) and f.related_model is Customer
        ]
        if not links:
            raise ErasureError(f"{table.label} holds encrypted data with no link to a customer")
        out += [(table.model, table.fields, link) for link in links]
    return out


def customer_needles(customer: Customer) -> set[str]:
    """Plain spellings of the person's data, to find them in stored files and reports."""
    out = {customer.name, customer.email}
    if customer.phone:
        out |= {customer.phone, "0" + customer.phone[3:], format_phone(customer.phone)}
        out.add(format_phone(customer.phone).replace("-", " "))
    if customer.birthday:
        out.add(customer.birthday.isoformat())
    return {n for n in out if n and len(n) >= 2}


def _texts(data: bytes) -> list[str]:
    """The file's text as every decoding it may be in (an .xlsx is a zip of XML parts)."""
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return [
                    archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                ]
        except zipfile.BadZipFile:
            return []
    texts = []
    # UTF-16 only with its byte-order mark: any even-length binary "decodes" without one.
    utf16 = ("utf-16",) if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ()
    for encoding in ("utf-8-sig", "cp949", *utf16):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # a NUL is binary read as text, not a decoding of it
            texts.append(text)
    return texts


# Past this many spellings (a nightly retention batch), a file is matched cell by cell.
SUBSTRING_LIMIT = 50
_CELL_SPLIT = re.compile(r"[\t\r\n,;|<>\"]+")


def _mentions(data: bytes, needles: set[str]) -> bool:
    texts = _texts(data)
    if not texts:
        return True  # unreadable: it may hold the person, so it goes
    if len(needles) <= SUBSTRING_LIMIT:
        return any(n in text for text in texts for n in needles)
    cells = {cell.strip() for text in texts for cell in _CELL_SPLIT.split(text)}
    return not needles.isdisjoint(cells)


def _redact(value: Any, needles: set[str]) -> tuple[Any, bool]:
    if isinstance(value, str):
        return (REDACTED, True) if any(n in value for n in needles) else (value, False)
    if isinstance(value, list):
        pairs = [_redact(v, needles) for v in value]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    if isinstance(value, dict):
        pairs = {k: _redact(v, needles) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(c for _, c in pairs.values())
    return value, False


def _stored_path(run: ImportRun) -> Path:
    # Where the import wizard keeps an uploaded file between its steps (imports.services).
    return Path(settings.DATA_DIR) / "imports" / str(run.shop_id) / run.stored_as


def import_uploads_purge(
    *, shop: Shop, needles: set[str], before: dt.datetime | None = None
) -> int:
    """Delete stored uploads that mention the people (a file cannot be edited in place: the
    run keeps its counts) and redact the reports' quoted values; with ``before``, every upload
    older than that goes whatever it holds. Returns the runs touched."""
    touched = 0
    runs = ImportRun.objects.for_shop(shop).order_by("pk")
    gone: set[str] = set()
    for run in runs:
        changed = False
        if run.stored_as:
            path = _stored_path(run)
            if run.stored_as in gone:
                run.stored_as, changed = "", True
            elif path.is_file() and (
                (before is not None and run.created_at < before)
                or _mentions(path.read_bytes(), needles)
            ):
                path.unlink()
                gone.add(run.stored_as)
                run.stored_as, changed = "", True
        for name in ("report", "mapping", "file_name"):
            value, hit = _redact(getattr(run, name), needles)
            if hit:
                setattr(run, name, value)
                changed = True
        if changed:
            run.save(update_fields=["stored_as", "report", "mapping", "file_name"])
            touched += 1
    return touched


def _keep_optouts(shop: Shop, customer: Customer) -> int:
    """Explicit withdrawals become hashed suppressions before the address is forgotten."""
    added = 0
    for state in consent_current(customer=customer):
        if state.granted or not state.source:  # never asked is not an opt-out
            continue
        for channel in OPTOUT_CHANNELS.get(state.kind, ()):
            address = customer.email if channel == Channel.EMAIL else customer.phone
            if address:
                suppression_add(shop=shop, address=address, channel=channel, source="erasure")
                added += 1
    return added


def _purge_encrypted(customer_ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model, fields, link in customer_links():
        blank: dict[str, Any] = dict.fromkeys(fields, "")
        rows = model._base_manager.filter(**{f"{link}__in": customer_ids})
        counts[model._meta.model_name] = counts.get(model._meta.model_name, 0) + rows.update(
            **blank
        )
    return counts


def _erase_one(shop: Shop, customer: Customer, *, scan_imports: bool) -> dict[str, int]:
    ids = [customer.pk]
    counts = {"suppressions": _keep_optouts(shop, customer)}
    if scan_imports:
        counts["import_runs"] = import_uploads_purge(shop=shop, needles=customer_needles(customer))
    # Messages not yet sent will never be: blocked, with the reason on record.
    pending = list(
        OutboxMessage.objects.for_shop(shop).filter(
            customer_id__in=ids, status__in=[Status.QUEUED, Status.HELD]
        )
    )
    if pending:
        OutboxMessage.objects.for_shop(shop).filter(pk__in=[m.pk for m in pending]).update(
            status=Status.BLOCKED, reasons=["opted_out"], claimed_by="", updated_at=timezone.now()
        )
        message_events_bulk((m, Status.BLOCKED, ["opted_out"], "erased") for m in pending)
    counts |= _purge_encrypted(ids)
    # Provider answers may quote the number; nothing else of the history is personal.
    OutboxEvent.objects.for_shop(shop).filter(message__customer_id__in=ids).exclude(
        detail=""
    ).update(detail="")
    Customer.objects.for_shop(shop).filter(pk__in=ids).update(
        phone_bidx="",
        email_bidx="",
        search_tokens="",
        birthday=None,
        birthday_md=None,
        birthday_calendar=BirthdayCalendar.SOLAR,
        birthday_leap_month=False,
        gender="",
    )
    counts["identities"] = (
        CustomerIdentity.objects.for_shop(shop).filter(customer_id__in=ids).delete()[0]
    )
    ConsentEvent.objects.for_shop(shop).filter(customer_id__in=ids).update(
        ip_address=None, device="", evidence=""
    )
    counts["referrals"] = (
        Referral.objects.for_shop(shop).filter(Q(referrer_id__in=ids) | Q(referee_id__in=ids))
    ).delete()[0]
    counts["referral_codes"] = (
        ReferralCode.objects.for_shop(shop).filter(customer_id__in=ids).delete()[0]
    )
    return counts


def customer_family(*, shop: Shop, customer: Customer) -> list[Customer]:
    """The customer and every duplicate merged into them (the same person)."""
    found, frontier = [customer], [customer.pk]
    while frontier:
        more = list(Customer.objects.for_shop(shop).filter(merged_into_id__in=frontier))
        found += more
        frontier = [c.pk for c in more]
    return found


@transaction.atomic
def customer_erase(
    *,
    shop: Shop,
    customer: Customer,
    source: str = ErasureSource.REQUEST,
    request: DataSubjectRequest | None = None,
    actor: Any = None,
    ip_address: str | None = None,
    scan_imports: bool = True,
) -> Erasure:
    """Purge one customer's personal data for good; idempotent (a second call changes
    nothing and returns the first record). ``scan_imports=False`` is for a batch that has
    already purged the stored uploads with every person's spellings at once."""
    if customer.shop_id != shop.pk:
        raise ErasureError("the customer belongs to another shop")
    done = Erasure.objects.for_shop(shop).filter(customer=customer).first()
    if done is not None:
        return done
    if connection.vendor == "sqlite":
        # Freed space is zeroed, so the old values are not left in the file's free pages.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")
    customer = Customer.objects.for_shop(shop).select_for_update().get(pk=customer.pk)
    counts: dict[str, int] = {}
    for person in customer_family(shop=shop, customer=customer):
        for key, n in _erase_one(shop, person, scan_imports=scan_imports).items():
            counts[key] = counts.get(key, 0) + n
    erasure = Erasure.objects.for_shop(shop).create(
        shop=shop, customer=customer, source=source, request=request, counts=counts
    )
    audit_record(
        shop=shop,
        user=actor,
        action=AuditAction.DELETE,
        object_type="customer",
        object_id=customer.pk,
        customer_id=customer.pk,
        rows=1,
        reason=json.dumps({"erasure": source, "request": request.pk if request else None}),
        ip_address=ip_address,
        via="web" if actor is not None else "task",
    )
    return erasure


def erased_ids(*, shop: Shop, customer_ids: Iterable[int]) -> set[int]:
    return set(
        Erasure.objects.for_shop(shop)
        .filter(customer_id__in=list(customer_ids))
        .values_list("customer_id", flat=True)
    )
