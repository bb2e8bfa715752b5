from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from dangol.core.crypto import blind_index, blind_indexes
from dangol.core.phone import normalize_phone
from dangol.customers.models import (
    BirthdayCalendar,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    CreatedVia,
    Customer,
    CustomerIdentity,
    IdentityKind,
)
from dangol.customers.search import search_tokens_for
from dangol.shops.models import Shop, Store


class CustomerError(ValueError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def phone_blind_index(*, shop_id: int, phone_e164: str) -> str:
    return blind_index(phone_e164, purpose="phone", shop_id=shop_id)


def phone_blind_indexes(*, shop_id: int, phone_e164: str) -> list[str]:
    """Every index the phone may be stored under while a blind-index key is being rotated."""
    return blind_indexes(phone_e164, purpose="phone", shop_id=shop_id)


def email_blind_index(*, shop_id: int, email: str) -> str:
    return blind_index(email.strip().casefold(), purpose="email", shop_id=shop_id)


@dataclass(frozen=True)
class CustomerInput:
    name: str
    phone: str
    email: str = ""
    birthday: dt.date | None = None
    birthday_calendar: str = BirthdayCalendar.SOLAR
    birthday_leap_month: bool = False
    gender: str = ""
    home_store: Store | None = None
    created_at: dt.datetime | None = None


def _build_customer(*, shop: Shop, data: CustomerInput, created_via: str) -> Customer:
    name = data.name.strip()
    if not name:
        raise CustomerError("이름을 입력하세요 / A name is required.", field="name")
    try:
        phone = normalize_phone(data.phone)
    except ValueError as exc:
        raise CustomerError(str(exc), field="phone") from exc
    if data.birthday_calendar not in BirthdayCalendar.values:
        raise CustomerError("알 수 없는 달력입니다 / Unknown calendar.", field="birthday_calendar")
    if data.birthday_leap_month and data.birthday_calendar != BirthdayCalendar.LUNAR:
        raise CustomerError(
            "윤달은 음력 생일에만 있습니다 / Only lunar birthdays have leap months.",
            field="birthday_leap_month",
        )
    email = data.email.strip()
    return Customer(
        shop=shop,
        name=name,
        phone=phone,
        email=email,
        birthday=data.birthday,
        birthday_calendar=data.birthday_calendar,
        birthday_leap_month=data.birthday_leap_month,
        birthday_md=data.birthday.month * 100 + data.birthday.day if data.birthday else None,
        gender=data.gender,
        created_via=created_via,
        home_store=data.home_store,
        created_at=data.created_at or timezone.now(),
        phone_bidx=phone_blind_index(shop_id=shop.pk, phone_e164=phone),
        email_bidx=email_blind_index(shop_id=shop.pk, email=email) if email else "",
        search_tokens=search_tokens_for(shop_id=shop.pk, name=name, phone_e164=phone),
    )


def _identities_for(customer: Customer) -> list[CustomerIdentity]:
    rows = [
        CustomerIdentity(
            shop_id=customer.shop_id,
            customer=customer,
            kind=IdentityKind.PHONE,
            value_bidx=customer.phone_bidx,
        )
    ]
    if customer.email_bidx:
        rows.append(
            CustomerIdentity(
                shop_id=customer.shop_id,
                customer=customer,
                kind=IdentityKind.EMAIL,
                value_bidx=customer.email_bidx,
            )
        )
    return rows


@transaction.atomic
def customer_create(
    *, shop: Shop, data: CustomerInput, created_via: str = CreatedVia.STAFF
) -> Customer:
    customer = _build_customer(shop=shop, data=data, created_via=created_via)
    taken = CustomerIdentity.unscoped.filter(
        shop=shop,
        kind=IdentityKind.PHONE,
        value_bidx__in=phone_blind_indexes(shop_id=shop.pk, phone_e164=customer.phone),
    ).exists()
    if taken:
        raise CustomerError(
            "이미 등록된 전화번호입니다 / A customer with this phone already exists.",
            field="phone",
        )
    customer.save()
    CustomerIdentity.unscoped.bulk_create(_identities_for(customer))
    return customer


@transaction.atomic
def customer_bulk_create(
    *, shop: Shop, rows: Iterable[CustomerInput], created_via: str, batch_size: int = 500
) -> list[Customer]:
    """Create many customers at once (demo data, imports); all or nothing."""
    customers = [_build_customer(shop=shop, data=row, created_via=created_via) for row in rows]
    seen: set[str] = set()
    for index, customer in enumerate(customers, start=1):
        if customer.phone_bidx in seen:
            raise CustomerError(
                f"{index}번째 고객의 전화번호가 중복됩니다 / Row {index}: duplicate phone.",
                field="phone",
            )
        seen.add(customer.phone_bidx)
    Customer.unscoped.bulk_create(customers, batch_size=batch_size)
    identities = [identity for c in customers for identity in _identities_for(c)]
    CustomerIdentity.unscoped.bulk_create(identities, batch_size=batch_size)
    return customers


@dataclass(frozen=True)
class ConsentInput:
    kind: str
    granted: bool
    source: str
    occurred_at: dt.datetime | None = None
    wording_version: str = ""
    evidence: str = ""
    ip_address: str | None = None
    device: str = ""


def _consent_row(
    *, customer: Customer, data: ConsentInput, actor: AbstractBaseUser | None
) -> ConsentEvent:
    if data.kind not in ConsentKind.values:
        raise CustomerError(f"알 수 없는 동의 항목: {data.kind} / Unknown consent kind.")
    if data.source not in ConsentSource.values:
        raise CustomerError(f"알 수 없는 동의 경로: {data.source} / Unknown consent source.")
    return ConsentEvent(
        shop_id=customer.shop_id,
        customer=customer,
        kind=data.kind,
        granted=data.granted,
        source=data.source,
        wording_version=data.wording_version,
        evidence=data.evidence,
        actor=actor,
        ip_address=data.ip_address,
        device=data.device,
        occurred_at=data.occurred_at or timezone.now(),
    )


def consent_record(
    *, customer: Customer, data: ConsentInput, actor: AbstractBaseUser | None = None
) -> ConsentEvent:
    """Append one consent change; there is deliberately no update or delete."""
    row = _consent_row(customer=customer, data=data, actor=actor)
    row.save()
    return row


def consent_bulk_record(
    *, items: Iterable[tuple[Customer, ConsentInput]], batch_size: int = 1000
) -> int:
    rows = [_consent_row(customer=c, data=d, actor=None) for c, d in items]
    ConsentEvent.unscoped.bulk_create(rows, batch_size=batch_size)
    return len(rows)
