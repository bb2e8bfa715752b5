"""Conditions over paid purchases: visits, spend, recency, first visit, ticket, rank, products.

"Visits" are paid purchases. Windows are local calendar days: "the last 30 days" is today and the
29 days before it, in Seoul time. Each condition is one grouped subquery on purchases; when a
customer with no purchase at all satisfies the comparison (e.g. "fewer than 2 visits"), the
condition is written as "not among those who fail", so that they are included.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Q, QuerySet, Sum
from django.utils import timezone

from dangol.sales.models import (
    RECENT_DAYS,
    CustomerStats,
    Purchase,
    PurchaseStatus,
)
from dangol.segments.conditions.base import (
    LOOKUPS,
    MAX_DAYS,
    Condition,
    EvalContext,
    Param,
    compare,
    op_param,
    op_words,
    register,
    window_param,
)

UNBOUNDED = 10**9


def paid(ctx: EvalContext, days: int | None = None) -> QuerySet[Purchase]:
    rows = Purchase.objects.for_shop(ctx.shop).filter(
        status=PurchaseStatus.PAID, customer__isnull=False
    )
    if days:
        rows = rows.filter(occurred_at__gte=ctx.days_ago_start(days))
    return rows.order_by()


def stats(ctx: EvalContext) -> QuerySet[CustomerStats]:
    return CustomerStats.objects.for_shop(ctx.shop).order_by()


def stats_q(ctx: EvalContext, field: str, op: str, value: Any, *, zero: Any = None) -> Q:
    """Like ``aggregate_q`` over the per-customer totals: one indexed row per customer."""
    lookup = {f"{field}__{LOOKUPS[op]}": value}
    if zero is not None and compare(op, zero, value):
        return ~Q(pk__in=stats(ctx).exclude(**lookup).values("customer_id"))
    return Q(pk__in=stats(ctx).filter(**lookup).values("customer_id"))


def stats_narrow(ctx: EvalContext, q: Q) -> tuple[str, QuerySet, Q]:
    return ("stats", stats(ctx), q)


def stats_compare_narrow(ctx: EvalContext, field: str, op: str, value: Any, *, zero: Any = None):
    """``stats_q`` as a narrow filter, when a customer without totals cannot match."""
    if zero is not None and compare(op, zero, value):
        return None
    return stats_narrow(ctx, Q(**{f"{field}__{LOOKUPS[op]}": value}))


def stats_values(ctx: EvalContext, field: str, ids: Sequence[int], zero: Any = None) -> dict:
    found = dict(stats(ctx).filter(customer_id__in=ids).values_list("customer_id", field))
    if zero is not None:
        return {i: found.get(i, zero) for i in ids}
    return found


def window_words(days: int | None) -> tuple[str, str]:
    return (f"최근 {days}일 ", f" in the last {days} days") if days else ("전체 기간 ", " ever")


def _grouped(rows: QuerySet, aggregate) -> QuerySet:
    return rows.values("customer_id").annotate(_v=aggregate)


def _window_grouped(rows: QuerySet, aggregate) -> QuerySet:
    """``rows`` grouped per customer, for a set-based subquery over a date window.

    The group key is ``customer_id + 0`` on purpose: grouped by the bare column, SQLite walks
    the whole ``customer_id`` index of purchases to get the groups in order (every purchase of
    the shop, for a 30-day window) instead of reading the window's range of the covering
    ``(shop, status, occurred_at, customer)`` index and sorting what it found. PostgreSQL hashes
    either way."""
    key = ExpressionWrapper(F("customer_id") + 0, output_field=BigIntegerField())
    return rows.values(_cid=key).annotate(_v=aggregate)


def aggregate_q(rows: QuerySet, aggregate, op: str, value: Any, *, zero: Any = None) -> Q:
    """Customers whose aggregate over ``rows`` compares true; ``zero`` is the value of a
    customer without rows (None: such customers never match)."""
    lookup = f"_v__{LOOKUPS[op]}"
    if zero is not None and compare(op, zero, value):
        failing = _window_grouped(rows, aggregate).exclude(**{lookup: value}).values("_cid")
        return ~Q(pk__in=failing)
    return Q(pk__in=_window_grouped(rows, aggregate).filter(**{lookup: value}).values("_cid"))


def aggregate_values(rows: QuerySet, aggregate, ids: Sequence[int], zero: Any = None) -> dict:
    found = dict(
        _grouped(rows.filter(customer_id__in=ids), aggregate).values_list("customer_id", "_v")
    )
    if zero is not None:
        return {i: found.get(i, zero) for i in ids}
    return found


def day_range(op: str, value: int) -> tuple[int, int]:
    """The comparison as an inclusive range of whole days [lo, hi]."""
    return {
        "gte": (value, UNBOUNDED),
        "gt": (value + 1, UNBOUNDED),
        "lte": (0, value),
        "lt": (0, value - 1),
        "eq": (value, value),
    }[op]


class _WindowedTotal(Condition):
    """A per-customer total of paid purchases, over a window of days or (no window) ever.

    All-time totals read the per-customer stats row; windows aggregate the purchases of the
    window. A customer with no purchase counts as 0.
    """

    stats_field = ""

    def aggregate(self, *, for_values: bool = False):
        raise NotImplementedError

    def q(self, params, ctx):
        if not params.get("days"):
            return stats_q(ctx, self.stats_field, params["op"], params["value"], zero=0)
        rows = paid(ctx, params["days"])
        return aggregate_q(rows, self.aggregate(), params["op"], params["value"], zero=0)

    def narrow(self, params, ctx):
        if params.get("days"):
            return None
        return stats_compare_narrow(ctx, self.stats_field, params["op"], params["value"], zero=0)

    def values(self, params, ctx, customer_ids):
        if not params.get("days"):
            return stats_values(ctx, self.stats_field, customer_ids, zero=0)
        rows = paid(ctx, params["days"])
        return aggregate_values(rows, self.aggregate(for_values=True), customer_ids, zero=0)


def _at_least_recent(ctx: EvalContext, k: int, days: int) -> Q:
    """Over the per-customer totals: at least ``k`` paid purchases in the last ``days`` days,
    i.e. the k-th most recent one fell on or after the window's first day."""
    if k == 1:
        return Q(last_purchase_at__gte=ctx.days_ago_start(days))
    return Q(**{f"recent_day_{k}__gte": ctx.today - dt.timedelta(days=days - 1)})


def recent_visits_q(ctx: EvalContext, op: str, value: int, days: int) -> tuple[Q, bool] | None:
    """ "Between lo and hi visits in the window" over the per-customer totals' recent days:
    ``(Q over the totals, True)`` for the customers with a row that passes, or ``(Q, False)``
    for those who fail when a customer without purchases (0 visits) passes. None when the
    bounds go past the RECENT_DAYS the totals keep; the caller then counts the purchases."""
    lo, hi = day_range(op, value)
    if hi < lo or lo > RECENT_DAYS or (hi != UNBOUNDED and hi + 1 > RECENT_DAYS):
        return None
    above = None if hi == UNBOUNDED else _at_least_recent(ctx, hi + 1, days)
    if lo == 0:
        return (above, False) if above is not None else None
    q = _at_least_recent(ctx, lo, days)
    return (q & ~above if above is not None else q), True


class Visits(_WindowedTotal):
    key, group = "visits", "visits"
    ko, en = "방문 횟수", "Number of visits"
    params = (*op_param(maximum=100_000), window_param())
    stats_field = "visits"

    def q(self, params, ctx):
        days = params.get("days")
        found = recent_visits_q(ctx, params["op"], params["value"], days) if days else None
        if found is None:
            return super().q(params, ctx)
        q, passing = found
        members = Q(pk__in=stats(ctx).filter(q).values("customer_id"))
        return members if passing else ~members

    def narrow(self, params, ctx):
        days = params.get("days")
        if not days:
            return super().narrow(params, ctx)
        found = recent_visits_q(ctx, params["op"], params["value"], days)
        if found is None or not found[1]:
            return None
        return stats_narrow(ctx, found[0])

    def aggregate(self, *, for_values: bool = False):
        # COUNT(*), not COUNT(id): the id is not in the covering index, and PostgreSQL would
        # visit every purchase of the window to read it.
        return Count("pk") if for_values else Count("*")

    def describe(self, params):
        w_ko, w_en = window_words(params.get("days"))
        ko, en = op_words(params["op"], params["value"], "회", "visits")
        return f"{w_ko}방문 {ko}", f"{en}{w_en}"


class Spend(_WindowedTotal):
    key, group = "spend", "spend"
    ko, en = "구매 금액 합계", "Total spend"
    params = (*op_param(maximum=10**12), window_param())
    stats_field = "total_spend"

    def aggregate(self, *, for_values: bool = False):
        return Sum("total")

    def describe(self, params):
        w_ko, w_en = window_words(params.get("days"))
        ko, en = op_words(params["op"], f"{params['value']:,}", "원", "KRW")
        return f"{w_ko}구매 금액 {ko}", f"spent {en}{w_en}"


class AverageTicket(Condition):
    key, group = "avg_ticket", "spend"
    ko, en = "평균 객단가", "Average ticket"
    params = op_param(maximum=10**10)

    def q(self, params, ctx):
        return stats_q(ctx, "avg_ticket", params["op"], params["value"])

    def narrow(self, params, ctx):
        return stats_compare_narrow(ctx, "avg_ticket", params["op"], params["value"])

    def values(self, params, ctx, customer_ids):
        return {k: round(v) for k, v in stats_values(ctx, "avg_ticket", customer_ids).items()}

    def describe(self, params):
        ko, en = op_words(params["op"], f"{params['value']:,}", "원", "KRW")
        return f"평균 객단가 {ko}", f"average ticket {en}"


class DaysSinceLastVisit(Condition):
    key, group = "days_since_last_visit", "visits"
    ko, en = "마지막 방문 후 지난 날", "Days since the last visit"
    params = op_param(maximum=MAX_DAYS)

    def narrow(self, params, ctx):
        lo, hi = day_range(params["op"], params["value"])
        if hi < 0:
            return None
        q = Q()
        if hi < UNBOUNDED:  # last visit on or after today - hi ...
            q &= Q(last_purchase_at__gte=ctx.day_start(ctx.today - _days(hi)))
        if lo > 0:  # ... and before the day after today - lo
            q &= Q(last_purchase_at__lt=ctx.day_start(ctx.today - _days(lo - 1)))
        return stats_narrow(ctx, q)

    def q(self, params, ctx):
        found = self.narrow(params, ctx)
        if found is None:
            return Q(pk__in=[])
        _, rows, q = found
        return Q(pk__in=rows.filter(q).values("customer_id"))

    def values(self, params, ctx, customer_ids):
        last = stats_values(ctx, "last_purchase_at", customer_ids)
        return {k: (ctx.today - _local_date(v)).days for k, v in last.items()}

    def describe(self, params):
        ko, en = op_words(params["op"], params["value"], "일", "days")
        return f"마지막 방문 후 {ko}", f"last visit {en} ago"


class FirstVisitDaysAgo(Condition):
    key, group = "first_visit_days_ago", "visits"
    ko, en = "첫 방문 후 지난 날", "Days since the first visit"
    params = op_param(maximum=MAX_DAYS)

    def narrow(self, params, ctx):
        lo, hi = day_range(params["op"], params["value"])
        if hi < 0:
            return None
        # first visit on or before today - lo ...
        q = Q(first_purchase_at__lt=ctx.day_start(ctx.today - _days(lo - 1)))
        if hi < UNBOUNDED:  # ... and on or after today - hi
            q &= Q(first_purchase_at__gte=ctx.day_start(ctx.today - _days(hi)))
        return stats_narrow(ctx, q)

    def q(self, params, ctx):
        found = self.narrow(params, ctx)
        if found is None:
            return Q(pk__in=[])
        _, rows, q = found
        return Q(pk__in=rows.filter(q).values("customer_id"))

    def values(self, params, ctx, customer_ids):
        first = stats_values(ctx, "first_purchase_at", customer_ids)
        return {k: (ctx.today - _local_date(v)).days for k, v in first.items()}

    def describe(self, params):
        ko, en = op_words(params["op"], params["value"], "일", "days")
        return f"첫 방문 후 {ko}", f"first visit {en} ago"


MEASURES = ("avg_ticket", "total_spend", "visits")
MEASURE_WORDS = {
    "avg_ticket": ("객단가", "average ticket"),
    "total_spend": ("총 구매 금액", "total spend"),
    "visits": ("방문 횟수", "visits"),
}


class SpendRank(Condition):
    """The top ``top_percent`` % of customers who ever bought, by a measure; ties included."""

    key, group = "rank", "spend"
    ko, en = "상위 고객", "Top customers"
    params = (
        Param("measure", "choice", "기준", "measure", choices=tuple(MEASURES)),
        Param("top_percent", "int", "상위 %", "top %", minimum=1, maximum=100),
    )

    def threshold(self, params, ctx) -> float | None:
        key = ("rank", params["measure"], params["top_percent"])
        if key not in ctx._cache:
            n = stats(ctx).count()
            if n == 0:
                ctx._cache[key] = None
            else:
                k = max(1, math.ceil(n * params["top_percent"] / 100))
                ordered = stats(ctx).order_by(f"-{params['measure']}")
                ctx._cache[key] = ordered.values_list(params["measure"], flat=True)[k - 1]
        return ctx._cache[key]

    def q(self, params, ctx):
        cut = self.threshold(params, ctx)
        if cut is None:
            return Q(pk__in=[])
        return stats_q(ctx, params["measure"], "gte", cut)

    def narrow(self, params, ctx):
        cut = self.threshold(params, ctx)
        if cut is None:
            return None
        return stats_compare_narrow(ctx, params["measure"], "gte", cut)

    def values(self, params, ctx, customer_ids):
        found = stats_values(ctx, params["measure"], customer_ids)
        return {k: round(v) for k, v in found.items()}

    def describe(self, params):
        ko, en = MEASURE_WORDS[params["measure"]]
        p = params["top_percent"]
        return f"{ko} 상위 {p}%", f"top {p}% by {en}"


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def _local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


for _condition in (
    Visits(),
    Spend(),
    AverageTicket(),
    DaysSinceLastVisit(),
    FirstVisitDaysAgo(),
    SpendRank(),
):
    register(_condition)
