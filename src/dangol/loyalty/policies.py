"""Points policies: versioned earn rules, and what one purchase earns under them.

A policy version applies to points earned from its ``effective_from`` on, never before: a change
leaves every lot earned under an earlier version with its own amount and expiry (see
``points.py`` for the ledger those lots live in).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from dangol.loyalty.errors import PointsError
from dangol.loyalty.models import PointsPolicy
from dangol.shops.models import Shop

# No single entry may move more than this; a typo of a few zeros is refused outright.
MAX_POINTS = 10_000_000
MAX_RATE_BP = 5_000  # 50 % of the amount
MAX_MULTIPLIER_PCT = 1_000  # x10
MAX_VALIDITY_MONTHS = 120


@dataclass(frozen=True)
class PolicyInput:
    earn_rate_bp: int = 0
    points_per_visit: int = 0
    min_amount: int = 0
    item_rules: Sequence[dict[str, Any]] = field(default_factory=tuple)
    promotions: Sequence[dict[str, Any]] = field(default_factory=tuple)
    validity_months: int = 12


def _bad_policy(ko: str, en: str) -> PointsError:
    return PointsError("invalid_policy", ko, en)


def int_in(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _clean_item_rules(*, shop: Shop, rules: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    from dangol.sales.models import Product

    out: list[dict[str, Any]] = []
    for rule in rules:
        points = rule.get("points")
        if not int_in(points, 1, 100_000):
            raise _bad_policy("품목 적립은 1~100,000점", "Item points must be 1 to 100,000.")
        if rule.get("product_id") is not None:
            pid = rule["product_id"]
            if not Product.objects.for_shop(shop).filter(pk=pid).exists():
                raise _bad_policy("이 매장의 상품이 아닙니다", "Product is not this shop's.")
            out.append({"product_id": int(pid), "points": points})
        elif isinstance(rule.get("category"), str) and rule["category"].strip():
            out.append({"category": rule["category"].strip(), "points": points})
        else:
            raise _bad_policy(
                "상품이나 분류를 고르세요", "An item rule needs a product or category."
            )
    return out


def _parse_day(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise _bad_policy("날짜 형식이 잘못됐습니다", f"Bad date {value!r}.") from exc


def _clean_promotions(promotions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for promo in promotions:
        multiplier = promo.get("multiplier_pct")
        if not int_in(multiplier, 100, MAX_MULTIPLIER_PCT):
            raise _bad_policy("배수는 100~1000%", "A multiplier must be 100 to 1000 %.")
        weekdays = promo.get("weekdays", list(range(7)))
        if not weekdays or not all(int_in(d, 0, 6) for d in weekdays):
            raise _bad_policy("요일이 잘못됐습니다", "Weekdays must be 0 (Mon) to 6 (Sun).")
        start, end = promo.get("start_hour", 0), promo.get("end_hour", 24)
        if not (int_in(start, 0, 23) and int_in(end, 1, 24) and start < end):
            raise _bad_policy("시간대가 잘못됐습니다", "Hours must satisfy 0 ≤ start < end ≤ 24.")
        starts_on, ends_on = _parse_day(promo.get("starts_on")), _parse_day(promo.get("ends_on"))
        if starts_on and ends_on and starts_on > ends_on:
            raise _bad_policy("기간이 거꾸로입니다", "The promotion ends before it starts.")
        out.append(
            {
                "name": str(promo.get("name", ""))[:60],
                "multiplier_pct": multiplier,
                "weekdays": sorted(set(weekdays)),
                "start_hour": start,
                "end_hour": end,
                "starts_on": starts_on,
                "ends_on": ends_on,
            }
        )
    return out


@transaction.atomic
def points_policy_create(
    *,
    shop: Shop,
    data: PolicyInput,
    user: Any = None,
    effective_from: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> PointsPolicy:
    """A new policy version. It applies to points earned from ``effective_from`` on (now by
    default, never in the past): lots earned before keep their amounts and expiry."""
    now = now or timezone.now()
    effective_from = effective_from or now
    if effective_from.tzinfo is None:
        raise _bad_policy("시간대가 없는 시각", "Naive effective time.")
    if effective_from < now:
        raise PointsError(
            "retroactive_policy",
            "정책은 과거로 소급할 수 없습니다",
            "A policy cannot start in the past.",
        )
    if not int_in(data.earn_rate_bp, 0, MAX_RATE_BP):
        raise _bad_policy("적립률은 0~50%", "Earn rate must be 0 to 5000 basis points.")
    if not int_in(data.points_per_visit, 0, 100_000):
        raise _bad_policy("방문 적립은 0~100,000점", "Visit points must be 0 to 100,000.")
    if not int_in(data.min_amount, 0, 10**9):
        raise _bad_policy("최소 금액이 잘못됐습니다", "Minimum amount must be 0 or more.")
    if not int_in(data.validity_months, 1, MAX_VALIDITY_MONTHS):
        raise _bad_policy("유효기간은 1~120개월", "Validity must be 1 to 120 months.")
    item_rules = _clean_item_rules(shop=shop, rules=data.item_rules)
    promotions = _clean_promotions(data.promotions)
    # Serialise version numbers per shop.
    Shop.objects.select_for_update().filter(pk=shop.pk).values_list("pk").first()
    latest = PointsPolicy.objects.for_shop(shop).order_by("-version").first()
    if latest is not None and effective_from < latest.effective_from:
        raise PointsError(
            "retroactive_policy",
            "이전 버전보다 앞선 날짜로 만들 수 없습니다",
            "A policy cannot start before the previous version.",
        )
    return PointsPolicy.objects.for_shop(shop).create(
        shop=shop,
        version=(latest.version + 1) if latest else 1,
        effective_from=effective_from,
        earn_rate_bp=data.earn_rate_bp,
        points_per_visit=data.points_per_visit,
        min_amount=data.min_amount,
        item_rules=item_rules,
        promotions=promotions,
        validity_months=data.validity_months,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        created_at=now,
    )


def points_expiry_for(*, policy: PointsPolicy | None, earned_at: dt.datetime) -> dt.datetime:
    """Points earned on a (Seoul) day D are usable through D + validity; they expire at the
    start of the next day."""
    months = policy.validity_months if policy else 12
    day = timezone.localtime(earned_at).date() + relativedelta(months=months) + dt.timedelta(1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class LineFacts:
    product_id: int | None
    category: str
    quantity: int


def _promotion_pct(policy: PointsPolicy, at: dt.datetime) -> int:
    local = timezone.localtime(at)
    best = 100
    for promo in policy.promotions:
        day = local.date().isoformat()
        if promo.get("starts_on") and day < promo["starts_on"]:
            continue
        if promo.get("ends_on") and day > promo["ends_on"]:
            continue
        if local.weekday() not in promo["weekdays"]:
            continue
        if not promo["start_hour"] <= local.hour < promo["end_hour"]:
            continue
        best = max(best, promo["multiplier_pct"])
    return best


def points_for_purchase(
    *,
    policy: PointsPolicy,
    total: int,
    occurred_at: dt.datetime,
    lines: Sequence[LineFacts],
    tier_pct: int = 100,
) -> int:
    """What one paid purchase earns: percent of the amount + per visit + per item, times the
    tier multiplier and the best matching promotion. Whole points, rounded down."""
    if total < policy.min_amount or total <= 0:
        return 0
    base = total * policy.earn_rate_bp // 10_000 + policy.points_per_visit
    for line in lines:
        for rule in policy.item_rules:
            if ("product_id" in rule and rule["product_id"] == line.product_id) or (
                "category" in rule and rule["category"] == line.category
            ):
                base += rule["points"] * line.quantity
                break
    points = base * tier_pct * _promotion_pct(policy, occurred_at) // 10_000
    return min(points, MAX_POINTS)
