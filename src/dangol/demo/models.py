"""Plain, framework-free records produced by the demo generator.

All datetimes are timezone-aware and expressed in UTC; habits are planted in
Asia/Seoul local time (UTC+9, no daylight saving time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

CONSENT_KINDS: tuple[str, ...] = (
    "pipa_collection",
    "pipa_marketing",
    "ad_sms",
    "ad_kakao",
    "ad_email",
    "ad_push",
    "ad_night",
)
CONSENT_SOURCES: tuple[str, ...] = ("tablet", "staff", "import")
PURCHASE_STATUSES: tuple[str, ...] = ("paid", "refunded")


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    category: str
    price: int
    unit_cost: int


@dataclass(frozen=True)
class DemoStore:
    code: str
    name: str
    address: str


@dataclass(frozen=True)
class DemoConsent:
    kind: str
    granted: bool
    at: datetime
    source: str


@dataclass(frozen=True)
class DemoLine:
    sku: str
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class DemoPurchase:
    external_id: str
    customer_key: str | None
    store_code: str
    occurred_at: datetime
    lines: tuple[DemoLine, ...]
    discount: int
    total: int
    status: str


@dataclass(frozen=True)
class DemoCustomer:
    key: str
    name: str
    phone: str
    email: str | None
    birthday: date | None
    birthday_calendar: str
    birthday_leap_month: bool
    gender: str
    home_store: str
    pattern: str
    joined_at: datetime
    consents: tuple[DemoConsent, ...]


@dataclass(frozen=True)
class DemoDataset:
    shop_name: str
    category: str
    phone: str
    optout_080: str
    sender_numbers: tuple[str, ...]
    stores: tuple[DemoStore, ...]
    products: tuple[DemoProduct, ...]
    customers: tuple[DemoCustomer, ...]
    purchases: tuple[DemoPurchase, ...]
    start: date
    end: date
    seed: int
    ground_truth: dict = field(compare=True, hash=False)
