"""A plain-Python evaluator of segment rules, written separately from the SQL engine.

It loads the shop's rows once and evaluates each condition customer by customer, the slow and
obvious way, so that property tests can compare it with the engine's one-query answer.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from korean_lunar_calendar import KoreanLunarCalendar

from dangol.customers.models import ConsentEvent, Customer
from dangol.sales.models import Purchase, PurchaseLine
from dangol.scoring.models import CustomerScore

CHANNEL_KINDS = {
    "sms": "ad_sms",
    "kakao": "ad_kakao",
    "email": "ad_email",
    "push": "ad_push",
    "night": "ad_night",
    "marketing": "pipa_marketing",
}
COMPARE = {
    "gte": lambda a, b: a >= b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
}


@dataclass
class ShopData:
    now: dt.datetime
    customers: list[Customer]
    purchases: dict[int, list[Purchase]] = field(default_factory=lambda: defaultdict(list))
    lines: dict[int, list[tuple[Purchase, PurchaseLine]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    scores: dict[int, CustomerScore] = field(default_factory=dict)
    consents: dict[tuple[int, str], list[ConsentEvent]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @property
    def today(self) -> dt.date:
        return timezone.localtime(self.now).date()


def load(shop, *, now: dt.datetime, run=None) -> ShopData:
    data = ShopData(
        now=now,
        customers=list(Customer.unscoped.filter(shop=shop, merged_into__isnull=True)),
    )
    for p in Purchase.unscoped.filter(shop=shop, status="paid", customer__isnull=False):
        data.purchases[p.customer_id].append(p)
    for line in PurchaseLine.unscoped.filter(shop=shop).select_related("purchase", "product"):
        p = line.purchase
        if p.status == "paid" and p.customer_id:
            data.lines[p.customer_id].append((p, line))
    if run is not None:
        data.scores = {s.customer_id: s for s in CustomerScore.unscoped.filter(run=run)}
    for e in ConsentEvent.unscoped.filter(shop=shop):
        data.consents[(e.customer_id, e.kind)].append(e)
    return data


def _local(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def _in_window(data: ShopData, when: dt.datetime, days: int | None) -> bool:
    return days is None or _local(when) >= data.today - dt.timedelta(days=days - 1)


def _lunar(day: dt.date) -> tuple[int, int, bool]:
    c = KoreanLunarCalendar()
    c.setSolarDate(day.year, day.month, day.day)
    return c.lunarMonth, c.lunarDay, bool(c.isIntercalation)


def _birthday_in(customer: Customer, days: list[dt.date]) -> bool:
    md = customer.birthday_md
    if md is None:
        return False
    month, day = divmod(md, 100)
    if customer.birthday_calendar == "solar":
        for d in days:
            if (d.month, d.day) == (month, day):
                return True
            if (
                (month, day) == (2, 29)
                and (d.month, d.day) == (2, 28)
                and not calendar.isleap(d.year)
            ):
                return True
        return False
    for d in days:
        lm, ld, leap = _lunar(d)
        same_day = ld == day or (day == 30 and ld == 29)
        if lm == month and same_day and (not leap or customer.birthday_leap_month):
            return True
    return False


def _score_value(data: ShopData, customer: Customer, name: str) -> Any:
    score = data.scores.get(customer.pk)
    return getattr(score, name) if score is not None else None


def leaf(data: ShopData, customer: Customer, key: str, p: dict) -> bool:
    bought = data.purchases.get(customer.pk, [])
    if key in ("visits", "spend"):
        rows = [x for x in bought if _in_window(data, x.occurred_at, p.get("days"))]
        value = len(rows) if key == "visits" else sum(x.total for x in rows)
        return COMPARE[p["op"]](value, p["value"])
    if key == "avg_ticket":
        return bool(bought) and COMPARE[p["op"]](
            sum(x.total for x in bought) / len(bought), p["value"]
        )
    if key == "days_since_last_visit":
        return bool(bought) and COMPARE[p["op"]](
            (data.today - max(_local(x.occurred_at) for x in bought)).days, p["value"]
        )
    if key == "first_visit_days_ago":
        return bool(bought) and COMPARE[p["op"]](
            (data.today - min(_local(x.occurred_at) for x in bought)).days, p["value"]
        )
    if key == "rank":

        def measure(rows):
            if p["measure"] == "visits":
                return len(rows)
            total = sum(x.total for x in rows)
            return total / len(rows) if p["measure"] == "avg_ticket" else total

        values = sorted((measure(r) for r in data.purchases.values() if r), reverse=True)
        if not bought or not values:
            return False
        k = max(1, math.ceil(len(values) * p["top_percent"] / 100))
        return measure(bought) >= values[k - 1] - 1e-9
    if key == "bought":
        products = set(p.get("products") or [])
        categories = set(p.get("categories") or [])
        return any(
            _in_window(data, purchase.occurred_at, p.get("days"))
            and (
                line.product_id in products
                or (line.product is not None and line.product.category in categories)
            )
            for purchase, line in data.lines.get(customer.pk, [])
        )
    if key == "only_months":
        months = {int(m) for m in p["months"]}
        return bool(bought) and all(
            timezone.localtime(x.occurred_at).month in months for x in bought
        )
    if key in ("status", "rfm_segment"):
        return _score_value(data, customer, key) in set(p["values"])
    if key in ("churn_probability", "p_alive", "clv", "overdue_ratio"):
        value = _score_value(data, customer, key)
        return value is not None and COMPARE[p["op"]](value, p["value"])
    if key == "next_visit_within":
        nxt = _score_value(data, customer, "expected_next_visit")
        return nxt is not None and data.today <= nxt <= data.today + dt.timedelta(days=p["days"])
    if key == "weekday_habit":
        score = data.scores.get(customer.pk)
        return score is not None and score.visits >= 4 and score.habit_weekday == int(p["weekday"])
    if key == "birthday_within":
        return _birthday_in(
            customer, [data.today + dt.timedelta(days=k) for k in range(p["days"] + 1)]
        )
    if key == "birthday_month":
        month = p["month"] or data.today.month
        year = data.today.year + (1 if p["month"] and month < data.today.month else 0)
        last = calendar.monthrange(year, month)[1]
        return _birthday_in(customer, [dt.date(year, month, d) for d in range(1, last + 1)])
    if key == "consent":
        events = data.consents.get((customer.pk, CHANNEL_KINDS[p["channel"]]), [])
        latest = max(events, key=lambda e: (e.occurred_at, e.pk), default=None)
        granted = bool(latest and latest.granted)
        return granted == p.get("granted", True)
    if key == "home_store":
        return customer.home_store_id in set(p["stores"])
    raise KeyError(key)


def evaluate(data: ShopData, customer: Customer, rule: dict) -> bool:
    if "condition" in rule:
        params = {k: v for k, v in rule.items() if k != "condition"}
        return leaf(data, customer, rule["condition"], params)
    if "not" in rule:
        return not evaluate(data, customer, rule["not"])
    if "all" in rule:
        return all(evaluate(data, customer, r) for r in rule["all"])
    return any(evaluate(data, customer, r) for r in rule["any"])


def members(data: ShopData, rule: dict) -> set[int]:
    return {c.pk for c in data.customers if evaluate(data, c, rule)}
