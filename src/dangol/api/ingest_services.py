"""Writes behind the POS API: purchases one by one and in batches (idempotent by external id,
a status per item), refunds with the loyalty they earned taken back, customers by phone,
consent and products. Reads are in ``ingest_selectors``; the routes in ``ingest`` stay thin.

A batch is not all or nothing: each item is. The fast path writes every new purchase with one
``purchase_bulk_create`` inside a savepoint; if anything in it fails, the savepoint is rolled
back and the items are written one by one, each in its own savepoint, so that a bad item is
reported and the good ones are kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.db import IntegrityError, transaction

from dangol.api.ingest_selectors import products_by_sku, purchases_by_external_id
from dangol.core.phone import normalize_phone
from dangol.customers.models import (
    ConsentEvent,
    ConsentSource,
    CreatedVia,
    Customer,
    IdentityKind,
)
from dangol.customers.resolution import (
    IdentityConflict,
    customer_resolve,
    customer_resolve_or_create,
    identity_value,
)
from dangol.customers.selectors import customer_find_by_phone, customer_ids_by_identity
from dangol.customers.services import (
    ConsentInput,
    CustomerError,
    CustomerInput,
    consent_record,
    customer_create,
)
from dangol.loyalty.errors import LoyaltyError
from dangol.loyalty.services import (
    points_earn_for_purchases,
    points_reverse_for_purchase,
    referrals_reward_for_purchases,
    stamps_award_for_purchases,
    stamps_reverse_for_purchase,
)
from dangol.sales.models import Purchase, PurchaseSource, PurchaseStatus
from dangol.sales.services import (
    LineInput,
    PurchaseInput,
    SaleError,
    purchase_bulk_create,
    purchase_refund,
)
from dangol.shops.models import Shop, Store

SOURCE = PurchaseSource.POS


class IngestError(ValueError):
    """A refused item or request: a stable code, the field at fault, Korean and English."""

    def __init__(
        self,
        code: str,
        ko: str,
        en: str,
        *,
        field: str | None = None,
        status: int = 422,
        details: dict | None = None,
    ):
        self.code, self.ko, self.en, self.field, self.status = code, ko, en, field, status
        self.details = details or {}
        super().__init__(f"{ko} / {en}")


@dataclass(frozen=True)
class LineData:
    name: str
    quantity: int
    unit_price: int
    sku: str | None = None


@dataclass(frozen=True)
class PurchaseData:
    external_id: str
    occurred_at: dt.datetime
    lines: Sequence[LineData]
    discount: int = 0
    customer_phone: str | None = None
    customer_name: str | None = None
    customer_card_token: str | None = None
    customer_member_no: str | None = None


@dataclass
class ItemResult:
    index: int
    external_id: str
    status: str  # created | duplicate | error (pending while the batch is written)
    purchase: Purchase | None = None
    error: IngestError | None = None
    data: PurchaseData | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    # The customer's identities as (kind, normalised value), the phone included.
    identities: list[tuple[str, str]] = field(default_factory=list, repr=False)
    # The customer found by an identity before writing, and whether some identity is new.
    customer_id: int | None = field(default=None, repr=False)
    attach: bool = field(default=False, repr=False)
    row: PurchaseInput | None = field(default=None, repr=False)


def _error(result: ItemResult, error: IngestError) -> None:
    result.status, result.error = "error", error


def _loyalty_hooks(*, shop: Shop, purchase_ids: list[int]) -> None:
    if purchase_ids:
        points_earn_for_purchases(shop=shop, purchase_ids=purchase_ids)
        stamps_award_for_purchases(shop=shop, purchase_ids=purchase_ids)
        referrals_reward_for_purchases(shop=shop, purchase_ids=purchase_ids)


def _write(*, shop: Shop, pending: list[ItemResult], fast: bool = False) -> None:
    """Create the customers named by the items (or attach their new identities), then the
    purchases, then their loyalty.

    ``fast``: a customer that no identity found before writing and that comes with a phone
    only is created straight away (once per phone); should anything have changed meanwhile,
    the creation fails and the caller writes the items again one by one, each resolved."""
    customer_ids: dict[int, int | None] = {}
    created: dict[str, int] = {}
    for item in pending:
        assert item.data is not None
        customer_ids[item.index] = item.customer_id
        if not item.identities or (item.customer_id is not None and not item.attach):
            continue
        others = [p for p in item.identities if p[0] != IdentityKind.PHONE]
        if fast and item.phone and item.customer_id is None and not others:
            if item.phone not in created:
                created[item.phone] = customer_create(
                    shop=shop,
                    data=CustomerInput(name=item.data.customer_name or "", phone=item.phone),
                    created_via=CreatedVia.API,
                ).pk
            customer_ids[item.index] = created[item.phone]
            continue
        found = customer_resolve_or_create(
            shop=shop,
            data=CustomerInput(name=item.data.customer_name or "", phone=item.phone or ""),
            identities=others,
            created_via=CreatedVia.API,
        )
        customer_ids[item.index] = found.customer.pk
    rows = [replace(i.row, customer_id=customer_ids[i.index]) for i in pending]  # type: ignore[type-var]
    purchases = purchase_bulk_create(shop=shop, rows=rows)
    _loyalty_hooks(shop=shop, purchase_ids=[p.pk for p in purchases])
    for item, purchase in zip(pending, purchases, strict=True):
        item.status, item.purchase = "created", purchase


def _split(text: str) -> tuple[str, str]:
    ko, _, en = text.partition(" / ")
    return ko, en or ko


def _identity_conflict(customer_ids: list[int]) -> IngestError:
    return IngestError(
        "identity_conflict",
        "이 식별 정보들은 서로 다른 고객의 것입니다. 병합은 단골의 병합 화면에서 확인합니다",
        "These identities belong to different customers; a merge is confirmed on Dangol's "
        "merge page.",
        status=409,
        details={"customer_ids": customer_ids},
    )


def _failure(exc: Exception) -> IngestError:
    if isinstance(exc, IdentityConflict):
        return _identity_conflict(exc.customer_ids)
    if isinstance(exc, CustomerError):
        return IngestError(
            "invalid_customer",
            *_split(str(exc)),
            field=f"customer_{exc.field}" if exc.field else None,
        )
    if isinstance(exc, LoyaltyError):
        return IngestError(f"loyalty_{exc.code}", exc.ko, exc.en)
    return IngestError("invalid_purchase", *_split(str(exc)))


def _prepare(
    *, shop: Shop, store: Store, items: Sequence[PurchaseData | IngestError]
) -> list[ItemResult]:
    """Each item's result so far: refused, duplicate, or pending with its row ready."""
    results: list[ItemResult] = []
    seen: set[str] = set()
    for index, data in enumerate(items):
        if isinstance(data, IngestError):
            results.append(ItemResult(index, "", "error", error=data))
            continue
        result = ItemResult(index, data.external_id, "pending", data=data)
        results.append(result)
        if data.external_id in seen:
            _error(
                result,
                IngestError(
                    "duplicate_in_batch",
                    "같은 external_id가 이 요청에 두 번 있습니다",
                    "This external_id appears twice in the request.",
                    field="external_id",
                ),
            )
            continue
        seen.add(data.external_id)
        if data.customer_phone:
            try:
                result.phone = normalize_phone(data.customer_phone)
            except ValueError as exc:
                _error(
                    result,
                    IngestError("invalid_phone", *_split(str(exc)), field="customer_phone"),
                )
                continue
            result.identities.append((IdentityKind.PHONE.value, result.phone))
        for kind, value in (
            (IdentityKind.CARD_TOKEN, data.customer_card_token),
            (IdentityKind.MEMBER_NO, data.customer_member_no),
        ):
            if value:
                try:
                    result.identities.append((kind.value, identity_value(kind=kind, value=value)))
                except CustomerError as exc:
                    _error(result, _failure(exc))
    pending = [r for r in results if r.status == "pending"]
    existing = purchases_by_external_id(
        shop=shop, source=SOURCE, external_ids=[r.external_id for r in pending]
    )
    owners = customer_ids_by_identity(
        shop=shop, identities=[p for r in pending for p in r.identities]
    )
    skus = sorted({line.sku for r in pending for line in r.data.lines if line.sku})  # type: ignore[union-attr]
    products = products_by_sku(shop=shop, skus=skus)
    # Identities an earlier item of this request attaches or creates a customer with.
    introduced: set[tuple[str, str]] = set()
    for result in pending:
        data = result.data
        assert data is not None
        found = existing.get(result.external_id)
        if found is not None:
            if found.store_id == store.pk:
                result.status, result.purchase = "duplicate", found
            else:
                _error(result, _conflict())
            continue
        known = sorted({owners[p] for p in result.identities if p in owners})
        if len(known) > 1:
            _error(result, _identity_conflict(known))
            continue
        if known:
            result.customer_id = known[0]
            result.attach = any(p not in owners for p in result.identities)
        elif result.identities and not (
            (result.phone and data.customer_name) or introduced.intersection(result.identities)
        ):
            _error(
                result,
                IngestError(
                    "unknown_customer",
                    "이 고객을 찾을 수 없습니다. 고객을 먼저 등록하거나 customer_phone과 "
                    "customer_name을 보내 주세요",
                    "No customer has these identities: register the customer first or send "
                    "customer_phone and customer_name.",
                    field="customer_phone"
                    if result.phone
                    else f"customer_{result.identities[0][0]}",
                ),
            )
            continue
        if result.customer_id is None or result.attach:
            introduced.update(result.identities)
        result.row = PurchaseInput(
            store_id=store.pk,
            customer_id=None,
            source=SOURCE,
            external_id=data.external_id,
            occurred_at=data.occurred_at,
            discount=data.discount,
            lines=[
                LineInput(
                    product=products.get(line.sku) if line.sku else None,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for line in data.lines
            ],
        )
    return results


def _conflict() -> IngestError:
    return IngestError(
        "external_id_conflict",
        "다른 지점의 구매가 이 external_id를 쓰고 있습니다",
        "A purchase of another store already has this external_id.",
        field="external_id",
        status=409,
    )


@transaction.atomic
def pos_purchases_ingest(
    *, shop: Shop, store: Store, items: Sequence[PurchaseData | IngestError]
) -> list[ItemResult]:
    """Write POS purchases for one store. Each item is ``created`` (with its loyalty),
    ``duplicate`` (its external id was sent before: the existing purchase is returned) or
    ``error``. ``items`` may hold an ``IngestError`` where the item's schema was refused."""
    results = _prepare(shop=shop, store=store, items=items)
    pending = [r for r in results if r.status == "pending"]
    if not pending:
        return results
    try:
        with transaction.atomic():
            _write(shop=shop, pending=pending, fast=True)
        return results
    except (SaleError, CustomerError, LoyaltyError, IntegrityError):
        for item in pending:
            item.status, item.purchase = "pending", None
    # Slow path: one savepoint per item, so that one bad item does not sink the others.
    for item in pending:
        try:
            with transaction.atomic():
                _write(shop=shop, pending=[item])
        except IntegrityError:
            again = purchases_by_external_id(
                shop=shop, source=SOURCE, external_ids=[item.external_id]
            ).get(item.external_id)
            if again is not None and again.store_id == store.pk:
                item.status, item.purchase = "duplicate", again
            else:
                _error(item, _conflict())
        except (SaleError, CustomerError, LoyaltyError) as exc:
            _error(item, _failure(exc))
    return results


@dataclass(frozen=True)
class RefundResult:
    purchase: Purchase
    points_reversed: int
    stamps_reversed: int


@transaction.atomic
def pos_purchase_refund(
    *, shop: Shop, store: Store, external_id: str, kind: str, refunded_total: int | None = None
) -> RefundResult:
    """Refund (in full or in part) or cancel a purchase of this store, and take back the
    points (and, unless the refund is partial, the stamps) it earned. Repeat-safe."""
    purchase = purchases_by_external_id(shop=shop, source=SOURCE, external_ids=[external_id]).get(
        external_id
    )
    if purchase is None or purchase.store_id != store.pk:
        raise IngestError(
            "purchase_not_found",
            "이 지점에 그런 external_id의 구매가 없습니다",
            "This store has no purchase with that external_id.",
            field="external_id",
            status=404,
        )
    try:
        purchase = purchase_refund(
            shop=shop, purchase=purchase, kind=kind, refunded_total=refunded_total
        )
    except SaleError as exc:
        final = purchase.status in (PurchaseStatus.REFUNDED, PurchaseStatus.CANCELLED)
        raise IngestError(
            "already_final" if final else "invalid_refund",
            *_split(str(exc)),
            field=None if final else "refunded_total",
            status=409 if final else 422,
        ) from exc
    entry = points_reverse_for_purchase(
        shop=shop,
        purchase=purchase,
        refunded_amount=refunded_total
        if purchase.status == PurchaseStatus.PARTIALLY_REFUNDED
        else None,
    )
    stamps = 0
    if purchase.status in (PurchaseStatus.REFUNDED, PurchaseStatus.CANCELLED):
        stamps = stamps_reverse_for_purchase(shop=shop, purchase=purchase)
    return RefundResult(purchase, -entry.points if entry is not None else 0, stamps)


def _upsert_failure(exc: CustomerError) -> IngestError:
    if isinstance(exc, IdentityConflict):
        return _identity_conflict(exc.customer_ids)
    return IngestError("invalid_customer", *_split(str(exc)), field=exc.field)


@dataclass(frozen=True)
class UpsertResult:
    customer: Customer
    created: bool
    attached: list[str]


@transaction.atomic
def pos_customer_upsert(
    *,
    shop: Shop,
    store: Store,
    name: str,
    phone: str = "",
    email: str = "",
    card_token: str = "",
    member_no: str = "",
) -> UpsertResult:
    """The customer any of these identities belongs to, created when there is none (a phone
    is then needed). An existing customer gets the identities it did not have yet and is
    otherwise returned unchanged: what the shop keeps about its customers is edited in
    Dangol, not overwritten by a POS. Identities of two different customers are refused
    (``identity_conflict``, 409): joining them is a merge the owner confirms."""
    e164 = ""
    if phone:
        try:
            e164 = normalize_phone(phone)
        except ValueError as exc:
            raise IngestError("invalid_phone", *_split(str(exc)), field="phone") from exc
    identities = [
        (kind.value, value)
        for kind, value in (
            (IdentityKind.CARD_TOKEN, card_token),
            (IdentityKind.MEMBER_NO, member_no),
        )
        if value
    ]
    if not e164:
        try:
            known = customer_resolve(shop=shop, email=email or None, identities=identities)
        except CustomerError as exc:
            raise _upsert_failure(exc) from exc
        if known.customer is None:
            raise IngestError(
                "phone_required",
                "이 식별 정보의 고객이 없습니다. 새 고객은 전화번호가 있어야 등록됩니다",
                "No customer has these identities; a new customer needs a phone.",
                field="phone",
            )
        if known.conflicts:
            raise _identity_conflict(sorted({known.customer.pk, *known.conflicts}))
        return UpsertResult(known.customer, False, known.attached)
    try:
        found = customer_resolve_or_create(
            shop=shop,
            data=CustomerInput(name=name, phone=e164, email=email, home_store=store),
            identities=identities,
            created_via=CreatedVia.API,
        )
    except CustomerError as exc:
        raise _upsert_failure(exc) from exc
    return UpsertResult(found.customer, found.created, found.attached)


@transaction.atomic
def pos_consent_record(
    *,
    shop: Shop,
    phone: str,
    kind: str,
    granted: bool,
    evidence: str,
    occurred_at: dt.datetime | None = None,
    wording_version: str = "",
    ip_address: str | None = None,
) -> ConsentEvent:
    """Append a consent event (source "api") for the customer with this phone."""
    try:
        e164 = normalize_phone(phone)
    except ValueError as exc:
        raise IngestError("invalid_phone", *_split(str(exc)), field="phone") from exc
    customer = customer_find_by_phone(shop=shop, phone=e164)
    if customer is None:
        raise IngestError(
            "customer_not_found",
            "이 전화번호의 고객이 없습니다",
            "No customer has this phone.",
            field="phone",
            status=404,
        )
    return consent_record(
        customer=customer,
        data=ConsentInput(
            kind=kind,
            granted=granted,
            source=ConsentSource.API,
            occurred_at=occurred_at,
            wording_version=wording_version,
            evidence=evidence,
            ip_address=ip_address,
            device="api",
        ),
    )
