"""Per-customer totals of paid purchases (``CustomerStats``), rebuilt in the database.

One ``INSERT … SELECT`` per chunk of customers: the purchases are numbered per customer, newest
first, by a window function, and grouped back into one row per customer. Nothing passes through
Python per purchase or per customer, so a whole shop of 10M purchases is one statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import (
    DateField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Value,
    Window,
)
from django.db.models.functions import Cast, ExtractMonth, RowNumber, TruncDate
from django.utils import timezone

from dangol.sales.models import RECENT_DAYS, CustomerStats, Purchase, PurchaseStatus
from dangol.shops.models import Shop

STATS_CHUNK = 20_000


@lru_cache(maxsize=4)
def _fixed_offset(zone: str) -> int | None:
    """Minutes east of UTC when the zone has kept one offset since 1990 (Seoul: +540), else
    None. Such a zone's local day is plain arithmetic, which SQLite does natively."""
    tz = ZoneInfo(zone)
    offsets = {
        tz.utcoffset(dt.datetime(year, month, 1))
        for year in range(1990, 2101)
        for month in range(1, 13)
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return int(offset.total_seconds() // 60)


def _local_day_and_month(field: str):
    """The local (active time zone) calendar day and month of a timestamp column.

    Django's generic versions run a Python function per row on SQLite (most of a rebuild's time);
    for a zone without daylight saving SQLite's own date arithmetic gives the same answer."""
    offset = _fixed_offset(timezone.get_current_timezone_name())
    if connection.vendor == "sqlite" and offset is not None:
        shift = Value(f"{offset:+d} minutes")
        day = Func(F(field), shift, function="date", output_field=DateField())
        month = Func(Value("%m"), F(field), shift, function="strftime")
        return day, Cast(month, IntegerField())
    # EXTRACT is numeric on PostgreSQL; a shift needs an integer.
    return TruncDate(field, output_field=DateField()), Cast(ExtractMonth(field), IntegerField())


def _numbered_purchases(*, shop: Shop, customer_ids: Sequence[int] | None):
    """Paid purchases with their customer's newest-first number, local day and month bit.

    Local day and month follow the active time zone (Seoul), as every segment window does."""
    rows = Purchase.objects.for_shop(shop).filter(
        status=PurchaseStatus.PAID, customer__isnull=False
    )
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=customer_ids)
    day, month = _local_day_and_month("occurred_at")
    return (
        rows.order_by()
        .annotate(
            s_cid=F("customer_id"),
            s_at=F("occurred_at"),
            s_total=F("total"),
            s_rn=Window(
                RowNumber(),
                partition_by=[F("customer_id")],
                order_by=[F("occurred_at").desc(), F("id").desc()],
            ),
            s_day=day,
            s_bit=ExpressionWrapper(Value(1).bitleftshift(month - 1), output_field=IntegerField()),
        )
        .values("s_cid", "s_at", "s_total", "s_rn", "s_day", "s_bit")
    )


def _insert_sql(*, shop: Shop, customer_ids: Sequence[int] | None) -> tuple[str, list]:
    numbered = _numbered_purchases(shop=shop, customer_ids=customer_ids)
    inner, params = numbered.query.sql_with_params()
    q = connection.ops.quote_name
    recent = [f"recent_day_{k}" for k in range(2, RECENT_DAYS + 1)]
    columns = [
        "shop_id",
        "customer_id",
        "visits",
        "total_spend",
        "avg_ticket",
        "first_purchase_at",
        "last_purchase_at",
        "months_mask",
        *recent,
    ]
    # SUM(DISTINCT bit) is the bitwise OR of the month bits, in SQL both databases speak.
    select = [
        "%s",
        "s_cid",
        "COUNT(*)",
        "SUM(s_total)",
        # Exact-integer sum as a double, then one IEEE division: the same value Python gives.
        "CAST(SUM(s_total) AS DOUBLE PRECISION) / COUNT(*)",
        "MIN(s_at)",
        "MAX(s_at)",
        "SUM(DISTINCT s_bit)",
        *(f"MAX(CASE WHEN s_rn = {k} THEN s_day END)" for k in range(2, RECENT_DAYS + 1)),
    ]
    # Identifiers come from the model's metadata and the ORM's compiler; values are parameters.
    table = q(CustomerStats._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"SELECT {', '.join(select)} FROM ({inner}) numbered GROUP BY s_cid"
    )
    return sql, [shop.pk, *params]


@transaction.atomic
def customer_stats_rebuild(*, shop: Shop, customer_ids: Sequence[int] | None = None) -> int:
    """Recompute ``CustomerStats`` from paid purchases for these customers (None: all of the
    shop's); returns how many rows now exist for them. Called by every service that writes
    purchases, in the same transaction."""
    if customer_ids is None:
        chunks: list[Sequence[int] | None] = [None]
    else:
        ids = sorted(set(customer_ids))
        chunks = [ids[i : i + STATS_CHUNK] for i in range(0, len(ids), STATS_CHUNK)]
    stats = CustomerStats.objects.for_shop(shop)
    written = 0
    for chunk in chunks:
        (stats if chunk is None else stats.filter(customer_id__in=chunk)).delete()
        sql, params = _insert_sql(shop=shop, customer_ids=chunk)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written += cursor.rowcount
    return written
