from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Avg, Count, Max, Prefetch, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from dangol.customers.models import Customer
from dangol.sales.models import Product, Purchase, PurchaseLine, PurchaseStatus
from dangol.shops.models import Shop


@dataclass(frozen=True)
class HomeKpis:
    customers: int
    visits_30d: int
    active_customers_30d: int
    returning_customers_30d: int
    revisit_rate: float | None
    average_ticket: int | None
    weekly_visits: list[tuple[dt.date, int]]


def paid_purchases(*, shop: Shop) -> QuerySet[Purchase]:
    return Purchase.objects.for_shop(shop).filter(status=PurchaseStatus.PAID)


def favourite_items(*, shop: Shop, customer_ids: Sequence[int]) -> dict[int, str]:
    """Each customer's most often bought item (the number of paid purchases it was on; a tie
    goes to the one bought most recently), one query. Customers without a paid line are absent."""
    rows = (
        PurchaseLine.objects.for_shop(shop)
        .filter(purchase__customer_id__in=customer_ids, purchase__status=PurchaseStatus.PAID)
        .values("purchase__customer_id", "name")
        .annotate(times=Count("purchase", distinct=True), last=Max("purchase__occurred_at"))
        .values_list("purchase__customer_id", "name", "times", "last")
        .order_by()
    )
    best: dict[int, tuple[int, dt.datetime, str]] = {}
    for customer_id, name, times, last in rows:
        if customer_id not in best or (times, last) > best[customer_id][:2]:
            best[customer_id] = (times, last, name)
    return {customer_id: name for customer_id, (_, _, name) in best.items()}


def home_kpis(*, shop: Shop, now: dt.datetime | None = None) -> HomeKpis:
    """The numbers on the owner's home page, computed from the shop's own sales."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=30)
    recent = paid_purchases(shop=shop).filter(occurred_at__gte=since, occurred_at__lte=now)
    stats = recent.aggregate(visits=Count("pk"), avg=Avg("total"))
    active_ids = recent.filter(customer__isnull=False).values("customer_id").distinct()
    active = active_ids.count()
    returning = (
        paid_purchases(shop=shop)
        .filter(customer_id__in=active_ids, occurred_at__lt=since)
        .values("customer_id")
        .distinct()
        .count()
    )
    weeks_since = now - dt.timedelta(weeks=12)
    weekly = (
        paid_purchases(shop=shop)
        .filter(occurred_at__gte=weeks_since, occurred_at__lte=now)
        .annotate(week=TruncWeek("occurred_at"))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by("week")
    )
    return HomeKpis(
        customers=Customer.objects.for_shop(shop).filter(merged_into__isnull=True).count(),
        visits_30d=stats["visits"] or 0,
        active_customers_30d=active,
        returning_customers_30d=returning,
        revisit_rate=(returning / active) if active else None,
        average_ticket=round(stats["avg"]) if stats["avg"] is not None else None,
        weekly_visits=[(row["week"].date(), row["n"]) for row in weekly],
    )


@dataclass(frozen=True)
class VisitTotals:
    visits: int
    total_spend: int


def customer_stats(*, shop: Shop, customer: Customer) -> VisitTotals:
    """Paid visits and spend over the customer's whole history (not just the shown timeline)."""
    stats = (
        paid_purchases(shop=shop).filter(customer=customer).aggregate(n=Count("pk"), s=Sum("total"))
    )
    return VisitTotals(visits=stats["n"], total_spend=stats["s"] or 0)


def product_list(*, shop: Shop) -> QuerySet[Product]:
    """The shop's products, those on sale first."""
    return Product.objects.for_shop(shop).order_by("-active", "name", "pk")


def product_categories(*, shop: Shop) -> list[str]:
    rows = Product.objects.for_shop(shop).exclude(category="").order_by("category")
    return list(rows.values_list("category", flat=True).distinct())


def purchase_timeline(*, shop: Shop, customer: Customer, limit: int = 100) -> list[Purchase]:
    lines = PurchaseLine.objects.for_shop(shop).order_by("pk")
    return list(
        Purchase.objects.for_shop(shop)
        .filter(customer=customer)
        .select_related("store")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("-occurred_at")[:limit]
    )
