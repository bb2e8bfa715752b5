"""Writes for scoring: run every model for a shop and store the snapshot in bulk."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from dangol.analytics.scorecard import STAGES, score_customers
from dangol.scoring.models import CustomerScore, RunStatus, ScoringRun
from dangol.scoring.selectors import scoring_transactions
from dangol.shops.models import Shop

# Bump when a model, a feature or a rule changes what a score means.
MODEL_VERSION = "2026.11.1"
KEEP_RUNS = 7
WRITE_BATCH = 2_000
ALL_STAGES = ("load", *STAGES, "save")

Progress = Callable[[str, int, int], None]


def _int(value: Any, default: int = 0) -> int:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return default
    return round(value)


def _float(value: Any) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _score_rows(
    frame: pl.DataFrame, *, shop: Shop, run: ScoringRun, computed_at: dt.datetime
) -> list[CustomerScore]:
    rows = []
    for r in frame.iter_rows(named=True):
        reasons = [
            {"key": k, "ko": ko, "en": en}
            for k, ko, en in zip(
                r["reason_keys"] or [], r["reasons_ko"] or [], r["reasons_en"] or [], strict=True
            )
        ]
        rows.append(
            CustomerScore(
                shop=shop,
                run=run,
                customer_id=r["customer_id"],
                computed_at=computed_at,
                model_version=MODEL_VERSION,
                status=r["status"],
                visits=r["visits"],
                first_visit=r["first_visit"],
                last_visit=r["last_visit"],
                days_since_last=r["days_since_last"],
                total_spend=_int(r["total_spend"]),
                spend_per_visit=_int(r["spend_per_visit"]),
                r_score=r["r_score"],
                f_score=r["f_score"],
                m_score=r["m_score"],
                rfm_segment=r["rfm_segment"],
                p_alive=_float(r["p_alive"]) or 0.0,
                expected_visits_90d=_float(r["expected_visits_90d"]) or 0.0,
                clv=_int(r["clv"]),
                churn_probability=_float(r["churn_probability"]) or 0.0,
                value_at_risk=_int(r["value_at_risk"]),
                typical_gap_days=_float(r["typical_gap_days"]),
                overdue_ratio=_float(r["overdue_ratio"]),
                expected_next_visit=r["expected_next_visit"],
                habit_weekday=r["habit_weekday"],
                habit_hour=r["habit_hour"],
                broken_habit=bool(r["broken_habit"]),
                seasonal=bool(r["seasonal"]),
                season_start_month=r["season_start_month"],
                reasons=reasons,
                action_ko=r["action_ko"] or "",
                action_en=r["action_en"] or "",
            )
        )
    return rows


def _prune(*, shop: Shop, keep: int) -> None:
    """Delete all but the newest ``keep`` successful runs, and failed runs older than those."""
    runs = ScoringRun.objects.for_shop(shop).order_by("-started_at", "-pk")
    kept = list(runs.filter(status=RunStatus.SUCCEEDED).values_list("pk", flat=True)[:keep])
    if len(kept) < keep:
        return
    oldest_kept = runs.get(pk=kept[-1]).started_at
    stale = runs.filter(started_at__lt=oldest_kept).exclude(status=RunStatus.RUNNING)
    CustomerScore.objects.for_shop(shop).filter(run__in=stale).delete()
    stale.delete()


def shop_score(
    *,
    shop: Shop,
    as_of: dt.date | None = None,
    keep_runs: int = KEEP_RUNS,
    progress: Progress | None = None,
) -> ScoringRun:
    """Score every customer of ``shop`` with purchases up to the end of day ``as_of`` (default:
    today in Seoul) and store the snapshot.

    The run row is committed first and marked failed if anything goes wrong, so an owner or
    operator can see that last night's scoring failed and why; the scores themselves are written
    all at once, so pages never see half a run.
    """
    report = progress or (lambda stage, done, total: None)
    as_of = as_of or timezone.localdate()
    run = ScoringRun.objects.for_shop(shop).create(
        shop=shop, model_version=MODEL_VERSION, as_of=as_of
    )
    total = len(ALL_STAGES)
    try:
        report("load", 0, total)
        end_of_day = timezone.make_aware(dt.datetime.combine(as_of, dt.time.max))
        transactions = scoring_transactions(shop=shop, until=end_of_day)

        def stage(name: str) -> None:
            report(name, ALL_STAGES.index(name), total)

        card = score_customers(
            transactions,
            customer="customer_id",
            at="at",
            amount="amount",
            asof=as_of,
            progress=stage,
        )
        report("save", total - 1, total)
        computed_at = timezone.now()
        rows = _score_rows(card.customers, shop=shop, run=run, computed_at=computed_at)
        with transaction.atomic():
            CustomerScore.objects.for_shop(shop).bulk_create(rows, batch_size=WRITE_BATCH)
            run.status = RunStatus.SUCCEEDED
            run.finished_at = timezone.now()
            run.customers_scored = len(rows)
            run.fitted = card.models
            run.save(update_fields=["status", "finished_at", "customers_scored", "fitted"])
            _prune(shop=shop, keep=keep_runs)
        report("save", total, total)
    except Exception as exc:
        run.status = RunStatus.FAILED
        run.finished_at = timezone.now()
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.save(update_fields=["status", "finished_at", "error"])
        raise
    return run
