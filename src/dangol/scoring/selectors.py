"""Reads for scoring: the transaction frame that goes into the models, and the latest scores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from django.db.models import Count, QuerySet, Sum

from dangol.customers.models import Customer
from dangol.sales.selectors import paid_purchases
from dangol.scoring.models import CustomerScore, CustomerStatus, RunStatus, ScoringRun
from dangol.shops.models import Shop

LOCAL_TZ = "Asia/Seoul"
FETCH_CHUNK = 20_000
WINNABLE = (CustomerStatus.BROKEN_HABIT, CustomerStatus.AT_RISK)


def scoring_transactions(*, shop: Shop, until: dt.datetime) -> pl.DataFrame:
    """Paid purchases of known customers up to ``until``: ``customer_id``, ``at`` (local
    wall-clock time, which the habit rules read) and ``amount`` (KRW).

    A merged customer's purchases count for the customer they were merged into.
    """
    rows = (
        paid_purchases(shop=shop)
        .filter(customer__isnull=False, occurred_at__lte=until)
        .values_list("customer_id", "customer__merged_into_id", "occurred_at", "total")
        .order_by()
        .iterator(chunk_size=FETCH_CHUNK)
    )
    schema = {
        "customer_id": pl.Int64,
        "merged_into": pl.Int64,
        "at": pl.Datetime("us", "UTC"),
        "amount": pl.Int64,
    }
    frame = pl.DataFrame(list(rows), schema=schema, orient="row")
    return frame.select(
        pl.coalesce("merged_into", "customer_id").alias("customer_id"),
        pl.col("at").dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None),
        "amount",
    )


def scoring_run_latest(*, shop: Shop) -> ScoringRun | None:
    return (
        ScoringRun.objects.for_shop(shop)
        .filter(status=RunStatus.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )


def score_queryset(*, shop: Shop, run: ScoringRun | None = None) -> QuerySet[CustomerScore]:
    """Scores of the latest successful run (or of ``run``); empty before the first scoring."""
    run = run or scoring_run_latest(shop=shop)
    if run is None:
        return CustomerScore.objects.for_shop(shop).none()
    return CustomerScore.objects.for_shop(shop).filter(run=run)


def customer_score_get(*, shop: Shop, customer: Customer) -> CustomerScore | None:
    return score_queryset(shop=shop).filter(customer=customer).first()


@dataclass(frozen=True)
class RiskSummary:
    """What the home page says about risk, from the latest run (None before any scoring)."""

    run: ScoringRun
    at_risk: int
    broken_habit: int
    lapsed: int
    value_at_risk: int
    by_status: dict[str, int]

    @property
    def winnable(self) -> int:
        return self.at_risk + self.broken_habit


def risk_summary(*, shop: Shop) -> RiskSummary | None:
    run = scoring_run_latest(shop=shop)
    if run is None:
        return None
    rows = (
        score_queryset(shop=shop, run=run)
        .values("status")
        .annotate(n=Count("pk"), value=Sum("value_at_risk"))
        .order_by()
    )
    by_status = {row["status"]: row["n"] for row in rows}
    value = sum(row["value"] or 0 for row in rows if row["status"] in WINNABLE)
    return RiskSummary(
        run=run,
        at_risk=by_status.get(CustomerStatus.AT_RISK, 0),
        broken_habit=by_status.get(CustomerStatus.BROKEN_HABIT, 0),
        lapsed=by_status.get(CustomerStatus.LAPSED, 0),
        value_at_risk=int(value),
        by_status=by_status,
    )


WINNABLE_FILTER = "winnable"


def customer_ids_with_status(*, shop: Shop, status: str) -> QuerySet[CustomerScore]:
    """Customer ids in the latest run with ``status`` ("winnable" = broken habit or at risk),
    as a subquery for filtering customer lists."""
    statuses = WINNABLE if status == WINNABLE_FILTER else (status,)
    return score_queryset(shop=shop).filter(status__in=statuses).values("customer_id")


def customer_statuses(*, shop: Shop, customer_ids: list[int]) -> dict[int, str]:
    """Latest status of each of ``customer_ids`` that has one."""
    rows = score_queryset(shop=shop).filter(customer_id__in=customer_ids)
    return dict(rows.values_list("customer_id", "status"))


def at_risk_list(
    *, shop: Shop, run: ScoringRun | None = None, limit: int = 20
) -> list[CustomerScore]:
    """Winnable customers, the most valuable at risk first."""
    return list(
        score_queryset(shop=shop, run=run)
        .filter(status__in=WINNABLE)
        .select_related("customer")
        .order_by("-value_at_risk", "-churn_probability", "pk")[:limit]
    )
