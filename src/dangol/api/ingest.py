"""POS API (``/api/v1/pos/``): what a store's POS sends and asks, with a store API key.

Authentication: ``Authorization: Bearer dgk_…`` (a key of one store, made by the owner), one
scope per route. Errors are JSON ``{code, message, details}`` with a stable code. Purchases
are idempotent by ``external_id``: a repeat answers ``duplicate`` with the purchase as it was.
Handlers are thin: the writes are in ``ingest_services``, the reads in ``ingest_selectors``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import (
    AfterValidator,
    ConfigDict,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from dangol.api import ingest_selectors, ingest_services
from dangol.api.auth import ApiKeyAuth
from dangol.api.errors import ApiError
from dangol.api.ingest_services import IngestError, LineData, PurchaseData
from dangol.audit.models import AuditAction
from dangol.audit.services import audit_record
from dangol.core.phone import mask_phone
from dangol.customers.models import ConsentKind
from dangol.customers.selectors import customer_find_by_phone
from dangol.loyalty.errors import CouponError
from dangol.loyalty.services import coupon_redeem
from dangol.sales.services import ProductInput, SaleError, product_bulk_upsert
from dangol.shops.models import ApiScope

router = Router(tags=["pos"])

MAX_BATCH = 1000
MAX_LINES = 200
# Largest amount of one line or one purchase (KRW): well inside a 32-bit column.
MAX_AMOUNT = 1_000_000_000
# A batch of 1,000 purchases with a few lines each fits in 2 MB; other routes keep 256 KB.
BATCH_MAX_BYTES = 2 * 1024 * 1024
BATCH_PATHS = ("/api/v1/pos/purchases/batch", "/api/v1/pos/products")


def _clean(text: str) -> str:
    """Stripped, and encodable: a lone surrogate cannot be stored by any database."""
    text = text.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    return text


def Text(max_length: int, min_length: int = 1):  # a type of bounded, clean text
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_clean)
    ]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("occurred_at needs a time zone, e.g. 2025-08-11T10:06:00+09:00")
    if (
        not dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        <= value
        <= dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    ):
        raise ValueError("occurred_at must be between 2000 and 2100")
    return value


AwareDateTime = Annotated[dt.datetime, AfterValidator(_aware)]
Text100 = Text(100)
Text100_0 = Text(100, 0)
Text120 = Text(120)
Text254_0 = Text(254, 0)
Text30 = Text(30)
Text30_0 = Text(30, 0)
Text40 = Text(40)
Text40_0 = Text(40, 0)
Text50 = Text(50)
Text500 = Text(500)
Text60 = Text(60)
Text60_0 = Text(60, 0)
ConsentKindName = Literal[tuple(ConsentKind.values)]  # type: ignore[valid-type]


# ---------------------------------------------------------------- schemas


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any]


class LineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Text120 = Field(..., examples=["아메리카노"])
    quantity: int = Field(1, ge=1, le=10_000)
    unit_price: int = Field(..., ge=0, le=MAX_AMOUNT, examples=[4500])
    sku: Text60 | None = Field(None, description="Links the line to a product sent before.")


class PurchaseIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "external_id": "POS1-20250811-0042",
                    "occurred_at": "2025-08-11T10:06:00+09:00",
                    "lines": [
                        {"name": "아메리카노", "quantity": 2, "unit_price": 4500, "sku": "AME"}
                    ],
                    "discount": 500,
                    "customer_phone": "010-1234-5678",
                }
            ]
        },
    )

    external_id: Text100 = Field(
        ..., description="The POS's receipt or approval number; unique within the shop."
    )
    occurred_at: AwareDateTime
    lines: list[LineIn] = Field(..., min_length=1, max_length=MAX_LINES)
    discount: int = Field(0, ge=0, le=MAX_AMOUNT)
    total: int | None = Field(
        None, ge=0, le=MAX_AMOUNT, description="Optional check: lines minus discount."
    )
    customer_phone: Text30 | None = None
    customer_name: Text50 | None = Field(
        None, description="Creates the customer when no customer has the phone yet."
    )
    customer_card_token: Text100 | None = Field(
        None,
        description="The payment card's token: finds the customer it was seen with before, "
        "or is attached to the customer of the phone.",
    )
    customer_member_no: Text60 | None = Field(
        None, description="The shop's member number; found and attached like the card token."
    )

    @model_validator(mode="after")
    def _amounts(self) -> PurchaseIn:
        gross = 0
        for line in self.lines:
            if line.quantity * line.unit_price > MAX_AMOUNT:
                raise ValueError(f"a line may come to at most {MAX_AMOUNT} KRW")
            gross += line.quantity * line.unit_price
        if gross > MAX_AMOUNT:
            raise ValueError(f"a purchase may come to at most {MAX_AMOUNT} KRW")
        if self.discount > gross:
            raise ValueError("discount exceeds the lines' total")
        if self.total is not None and self.total != gross - self.discount:
            raise ValueError(
                f"total is {self.total} but lines minus discount is {gross - self.discount}"
            )
        return self

    def data(self) -> PurchaseData:
        return PurchaseData(
            external_id=self.external_id,
            occurred_at=self.occurred_at,
            lines=[LineData(ln.name, ln.quantity, ln.unit_price, ln.sku) for ln in self.lines],
            discount=self.discount,
            customer_phone=self.customer_phone,
            customer_name=self.customer_name,
            customer_card_token=self.customer_card_token,
            customer_member_no=self.customer_member_no,
        )


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` written in place (no references left)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


# A batch takes each item as it comes so that one bad item is reported, not the whole batch;
# the document still shows each item as a PurchaseIn.
BatchItem = Annotated[Any, WithJsonSchema(_inlined(PurchaseIn.model_json_schema()))]


class BatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    items: list[BatchItem] = Field(..., min_length=1, max_length=MAX_BATCH)


class PurchaseOut(Schema):
    id: int
    external_id: str
    occurred_at: dt.datetime
    total: int
    discount: int
    status: str
    customer_id: int | None


class ItemError(Schema):
    code: str
    message: str
    field: str | None


class PurchaseResult(Schema):
    status: Literal["created", "duplicate"]
    purchase: PurchaseOut


class BatchItemOut(Schema):
    index: int
    external_id: str
    status: Literal["created", "duplicate", "error"]
    purchase_id: int | None
    error: ItemError | None


class BatchOut(Schema):
    created: int
    duplicates: int
    errors: int
    items: list[BatchItemOut]


class RefundIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "external_id": "POS1-20250811-0042",
                    "kind": "partial_refund",
                    "refunded_total": 4500,
                }
            ]
        },
    )

    external_id: Text100
    kind: Literal["refund", "cancel", "partial_refund"]
    refunded_total: int | None = Field(
        None,
        ge=1,
        le=MAX_AMOUNT,
        description="partial_refund only: the amount refunded so far in all (not this "
        "refund's share), so that a repeated call changes nothing.",
    )

    @model_validator(mode="after")
    def _total(self) -> RefundIn:
        if (self.kind == "partial_refund") != (self.refunded_total is not None):
            raise ValueError("refunded_total is required for partial_refund and only for it")
        return self


class RefundOut(Schema):
    purchase: PurchaseOut
    points_reversed: int
    stamps_reversed: int


class CustomerIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"phone": "010-1234-5678", "name": "김민지"}]},
    )

    phone: Text30_0 = Field(
        "",
        description="Needed to create a customer; may be left out to find one by another identity.",
    )
    name: Text50
    email: Text254_0 = ""
    card_token: Text100_0 = Field("", description="The payment card's token.")
    member_no: Text60_0 = Field("", description="The shop's member number.")

    @model_validator(mode="after")
    def _some_identity(self) -> CustomerIn:
        if not (self.phone or self.email or self.card_token or self.member_no):
            raise ValueError("send at least one of phone, email, card_token, member_no")
        return self


class CustomerRefOut(Schema):
    id: int
    name_initial: str
    phone_masked: str


class CustomerUpsertOut(Schema):
    status: Literal["created", "existing"]
    customer: CustomerRefOut
    attached: list[str] = Field(
        default_factory=list,
        description="Kinds of the identities attached to the existing customer by this call.",
    )


class ConsentIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "phone": "010-1234-5678",
                    "kind": "ad_sms",
                    "granted": True,
                    "evidence": "POS1 서명패드 2025-08-11 10:06, 문구 v3",
                }
            ]
        },
    )

    phone: Text30
    kind: ConsentKindName
    granted: bool
    evidence: Text500 = Field(..., description="How the consent was given (required).")
    wording_version: Text40_0 = ""
    occurred_at: AwareDateTime | None = None


class ConsentOut(Schema):
    id: int
    kind: str
    granted: bool
    source: str
    occurred_at: dt.datetime


class ProductIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sku: Text60
    name: Text120
    price: int = Field(..., ge=0, le=MAX_AMOUNT)
    category: Text60_0 = ""
    unit_cost: int = Field(0, ge=0, le=MAX_AMOUNT)
    active: bool = True


class ProductsIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"items": [{"sku": "AME", "name": "아메리카노", "price": 4500, "category": "커피"}]}
            ]
        },
    )

    items: list[ProductIn] = Field(..., min_length=1, max_length=MAX_BATCH)


class ProductItemOut(Schema):
    sku: str
    id: int
    status: Literal["created", "updated"]


class ProductsOut(Schema):
    created: int
    updated: int
    items: list[ProductItemOut]


class LookupIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"phone": "01012345678"}]}
    )

    phone: Text30


class PointsOut(Schema):
    balance: int
    expiring_soon: int
    next_expiry: dt.datetime | None


class StampsOut(Schema):
    card_id: int
    card_name: str
    stamps: int
    stamps_required: int


class CouponOut(Schema):
    code: str
    name: str
    kind: str
    value: int
    expires_at: dt.datetime


class LookupOut(Schema):
    customer_id: int
    name_initial: str
    phone_masked: str
    points: PointsOut
    stamps: list[StampsOut]
    coupons: list[CouponOut]


class RedeemIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"code": "AB12CD34", "amount": 12000}]}
    )

    code: Text40
    amount: int | None = Field(None, ge=0, le=MAX_AMOUNT, description="The purchase amount.")
    purchase_external_id: Text100 | None = None


class RedeemOut(Schema):
    code: str
    status: str
    redeemed_at: dt.datetime | None
    face_value: int | None


ERRORS = {k: ErrorOut for k in (400, 401, 403, 404, 409, 413, 422, 429)}


# ---------------------------------------------------------------- helpers


def _raise(exc: IngestError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.ko, exc.en, {"field": exc.field, **exc.details})


def _item_error(exc: ValidationError) -> IngestError:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or None
    return IngestError(
        "invalid_input", "입력이 올바르지 않습니다", first.get("msg", ""), field=where
    )


def _purchase(p) -> dict[str, Any]:
    return {
        "id": p.pk,
        "external_id": p.external_id,
        "occurred_at": p.occurred_at,
        "total": p.total,
        "discount": p.discount,
        "status": p.status,
        "customer_id": p.customer_id,
    }


# ---------------------------------------------------------------- routes


@router.post(
    "/purchases",
    auth=ApiKeyAuth(ApiScope.PURCHASES_WRITE),
    response={200: PurchaseResult, 201: PurchaseResult, **ERRORS},
)
def pos_purchase_create(request: HttpRequest, payload: PurchaseIn):
    """One purchase: 201 ``created``, or 200 ``duplicate`` when its external_id was sent
    before (the purchase as first stored). Points, stamps and referral rewards are earned in
    the same transaction."""
    (result,) = ingest_services.pos_purchases_ingest(
        shop=request.shop, store=request.store, items=[payload.data()]
    )
    if result.error is not None:
        raise _raise(result.error)
    body = {"status": result.status, "purchase": _purchase(result.purchase)}
    return Status(201 if result.status == "created" else 200, body)


@router.post(
    "/purchases/batch",
    auth=ApiKeyAuth(ApiScope.PURCHASES_WRITE),
    response={200: BatchOut, **ERRORS},
)
def pos_purchase_batch(request: HttpRequest, payload: BatchIn):
    """Up to 1,000 purchases (each a PurchaseIn). Each item is atomic and gets its own status
    (``created``, ``duplicate`` or ``error`` with a code and the field at fault); the batch as
    a whole is not: good items are kept. Replaying a batch changes nothing."""
    items: list[PurchaseData | IngestError] = []
    for raw in payload.items:
        try:
            items.append(PurchaseIn.model_validate(raw).data())
        except ValidationError as exc:
            items.append(_item_error(exc))
    results = ingest_services.pos_purchases_ingest(
        shop=request.shop, store=request.store, items=items
    )
    out = [
        {
            "index": r.index,
            "external_id": r.external_id,
            "status": r.status,
            "purchase_id": r.purchase.pk if r.purchase else None,
            "error": {"code": r.error.code, "message": str(r.error), "field": r.error.field}
            if r.error
            else None,
        }
        for r in results
    ]
    return {
        "created": sum(r.status == "created" for r in results),
        "duplicates": sum(r.status == "duplicate" for r in results),
        "errors": sum(r.status == "error" for r in results),
        "items": out,
    }


@router.post(
    "/refunds", auth=ApiKeyAuth(ApiScope.PURCHASES_WRITE), response={200: RefundOut, **ERRORS}
)
def pos_refund(request: HttpRequest, payload: RefundIn):
    """Refund in full (``refund``), cancel (``cancel``) or refund in part (``partial_refund``
    with ``refunded_total``). The points the purchase earned are taken back (in proportion
    for a partial refund), and its stamps for a full refund or a cancellation. Repeat-safe."""
    try:
        result = ingest_services.pos_purchase_refund(
            shop=request.shop,
            store=request.store,
            external_id=payload.external_id,
            kind=payload.kind,
            refunded_total=payload.refunded_total,
        )
    except IngestError as exc:
        raise _raise(exc) from exc
    return {
        "purchase": _purchase(result.purchase),
        "points_reversed": result.points_reversed,
        "stamps_reversed": result.stamps_reversed,
    }


@router.put(
    "/customers",
    auth=ApiKeyAuth(ApiScope.CUSTOMERS_WRITE),
    response={200: CustomerUpsertOut, 201: CustomerUpsertOut, **ERRORS},
)
def pos_customer_upsert(request: HttpRequest, payload: CustomerIn):
    """The customer any of the identities (phone, email, card_token, member_no) belongs to:
    200 ``existing``, with the identities it did not have yet attached (``attached``) and
    otherwise unchanged (a POS does not overwrite what the shop keeps); or 201 ``created``
    (a phone is then needed; home store: the key's store). Identities that belong to two
    different customers are refused with 409 ``identity_conflict``, never merged. Consent is
    not implied: send it to ``/consents``."""
    try:
        result = ingest_services.pos_customer_upsert(
            shop=request.shop,
            store=request.store,
            phone=payload.phone,
            name=payload.name,
            email=payload.email,
            card_token=payload.card_token,
            member_no=payload.member_no,
        )
    except IngestError as exc:
        raise _raise(exc) from exc
    customer = result.customer
    body = {
        "status": "created" if result.created else "existing",
        "customer": {
            "id": customer.pk,
            "name_initial": customer.name[:1],
            "phone_masked": mask_phone(customer.phone),
        },
        "attached": result.attached,
    }
    return Status(201 if result.created else 200, body)


@router.post(
    "/consents", auth=ApiKeyAuth(ApiScope.CUSTOMERS_WRITE), response={201: ConsentOut, **ERRORS}
)
def pos_consent(request: HttpRequest, payload: ConsentIn):
    """Append a consent event (source ``api``) with its evidence; events are never changed,
    the latest of each kind is in force."""
    try:
        event = ingest_services.pos_consent_record(
            shop=request.shop,
            phone=payload.phone,
            kind=payload.kind,
            granted=payload.granted,
            evidence=f"{payload.evidence} (API key {request.api_key.prefix})",
            occurred_at=payload.occurred_at,
            wording_version=payload.wording_version,
            ip_address=request.META.get("REMOTE_ADDR"),
        )
    except IngestError as exc:
        raise _raise(exc) from exc
    return Status(201, event)


@router.put(
    "/products", auth=ApiKeyAuth(ApiScope.PRODUCTS_WRITE), response={200: ProductsOut, **ERRORS}
)
def pos_products(request: HttpRequest, payload: ProductsIn):
    """Create or update up to 1,000 products by SKU; all or nothing."""
    try:
        results = product_bulk_upsert(
            shop=request.shop,
            rows=[ProductInput(**item.model_dump()) for item in payload.items],
        )
    except SaleError as exc:
        ko, _, en = str(exc).partition(" / ")
        raise ApiError(422, "invalid_products", ko, en or ko) from exc
    items = [
        {"sku": p.sku, "id": p.pk, "status": "created" if new else "updated"} for p, new in results
    ]
    created = sum(1 for _, new in results if new)
    return {"created": created, "updated": len(items) - created, "items": items}


@router.post(
    "/customers/lookup",
    auth=ApiKeyAuth(ApiScope.CUSTOMERS_READ),
    response={200: LookupOut, **ERRORS},
)
def pos_customer_lookup(request: HttpRequest, payload: LookupIn):
    """A customer by phone, for the counter: points, stamps and the coupons usable now. No
    personal data beyond the masked phone and the name's first character. The phone is sent
    in the body (not the URL) so that it stays out of access logs; each look-up is audited."""
    try:
        customer = customer_find_by_phone(shop=request.shop, phone=payload.phone)
    except ValueError as exc:
        ko, _, en = str(exc).partition(" / ")
        raise ApiError(422, "invalid_phone", ko, en or ko, {"field": "phone"}) from exc
    if customer is None:
        raise ApiError(
            404,
            "customer_not_found",
            "이 전화번호의 고객이 없습니다",
            "No customer has this phone.",
        )
    view = ingest_selectors.customer_counter_view(shop=request.shop, customer=customer)
    audit_record(
        shop=request.shop,
        user=None,
        action=AuditAction.VIEW,
        object_type="customer_counter",
        object_id=customer.pk,
        customer_id=customer.pk,
        reason=f"POS API key {request.api_key.prefix} ({request.store.code})",
        ip_address=request.META.get("REMOTE_ADDR"),
        via="api",
    )
    return {
        "customer_id": view.customer_id,
        "name_initial": view.name_initial,
        "phone_masked": view.phone_masked,
        "points": {
            "balance": view.points.balance,
            "expiring_soon": view.points.expiring_soon,
            "next_expiry": view.points.next_expiry,
        },
        "stamps": [
            {
                "card_id": s.card.pk,
                "card_name": s.card.name,
                "stamps": s.stamps,
                "stamps_required": s.card.stamps_required,
            }
            for s in view.stamps
        ],
        "coupons": [
            {
                "code": c.code,
                "name": c.template.name,
                "kind": c.template.kind,
                "value": c.template.value,
                "expires_at": c.expires_at,
            }
            for c in view.coupons
        ],
    }


COUPON_STATUS = {
    "unknown_code": 404,
    "foreign_shop": 404,
    "malformed_code": 422,
    "invalid_amount": 422,
    "amount_required": 422,
}


@router.post(
    "/coupons/redeem",
    auth=ApiKeyAuth(ApiScope.COUPONS_REDEEM),
    response={200: RedeemOut, **ERRORS},
)
def pos_coupon_redeem(request: HttpRequest, payload: RedeemIn):
    """Use a coupon once at the key's store. A refusal carries the coupon's own code:
    ``unknown_code``, ``foreign_shop`` (404); ``malformed_code``, ``amount_required``,
    ``invalid_amount`` (422); ``already_redeemed``, ``void``, ``not_yet_valid``, ``expired``,
    ``below_minimum``, ``out_of_scope``, ``other_customer`` (409)."""
    purchase = None
    if payload.purchase_external_id:
        purchase = ingest_selectors.purchases_by_external_id(
            shop=request.shop,
            source=ingest_services.SOURCE,
            external_ids=[payload.purchase_external_id],
        ).get(payload.purchase_external_id)
        if purchase is None or purchase.store_id != request.store.pk:
            raise ApiError(
                404,
                "purchase_not_found",
                "이 지점에 그런 external_id의 구매가 없습니다",
                "This store has no purchase with that external_id.",
                {"field": "purchase_external_id"},
            )
    try:
        coupon = coupon_redeem(
            shop=request.shop,
            code=payload.code,
            amount=payload.amount,
            purchase=purchase,
            store=request.store,
        )
    except CouponError as exc:
        raise ApiError(COUPON_STATUS.get(exc.code, 409), exc.code, exc.ko, exc.en) from exc
    return {
        "code": coupon.code,
        "status": coupon.status,
        "redeemed_at": coupon.redeemed_at,
        "face_value": coupon.face_value,
    }
