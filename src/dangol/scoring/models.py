"""Score snapshots: one ScoringRun per shop per scoring, one CustomerScore per customer in it.

Snapshots are never updated in place; the owner's pages read the latest successful run, and
old runs are pruned after a few nights so the table stays proportional to the customer base.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangol.core.tenancy import ShopScopedModel


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEW = "new", _("New")
    AT_RISK = "at_risk", _("At risk")
    BROKEN_HABIT = "broken_habit", _("Broken habit")
    LAPSED = "lapsed", _("Lapsed")
    SEASONAL = "seasonal", _("Seasonal")
    DORMANT = "dormant", _("Dormant")


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
    NEW = "new", _("New customers")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE = "cant_lose", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class ScoringRun(ShopScopedModel):
    """One scoring of a shop: what was fitted, how well it backtested, how it ended."""

    model_version = models.CharField(_("model version"), max_length=20)
    as_of = models.DateField(_("scored as of"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    customers_scored = models.PositiveIntegerField(_("customers scored"), default=0)
    # Fitted parameters (JSON, never pickles), the churn backtest and status counts.
    fitted = models.JSONField(_("fitted models"), default=dict)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        indexes = [models.Index(fields=["shop", "status", "-finished_at"])]

    def __str__(self) -> str:
        return f"{self.as_of} ({self.status})"


class CustomerScore(ShopScopedModel):
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="scores")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="scores"
    )
    computed_at = models.DateTimeField(_("computed at"))
    model_version = models.CharField(_("model version"), max_length=20)

    status = models.CharField(_("status"), max_length=16, choices=CustomerStatus.choices)
    visits = models.PositiveIntegerField(_("visits"))
    first_visit = models.DateField(_("first visit"))
    last_visit = models.DateField(_("last visit"))
    days_since_last = models.PositiveIntegerField(_("days since last visit"))
    total_spend = models.BigIntegerField(_("total spend (KRW)"))
    spend_per_visit = models.IntegerField(_("spend per visit (KRW)"))

    r_score = models.PositiveSmallIntegerField("R")
    f_score = models.PositiveSmallIntegerField("F")
    m_score = models.PositiveSmallIntegerField("M")
    rfm_segment = models.CharField(_("RFM segment"), max_length=24, choices=RfmSegment.choices)

    p_alive = models.FloatField(_("probability still a customer"))
    expected_visits_90d = models.FloatField(_("expected visits in 90 days"))
    clv = models.BigIntegerField(_("12-month value (KRW)"))
    churn_probability = models.FloatField(_("churn probability"))
    value_at_risk = models.BigIntegerField(_("90-day revenue at risk (KRW)"))

    typical_gap_days = models.FloatField(_("usual days between visits"), null=True)
    overdue_ratio = models.FloatField(_("overdue ratio"), null=True)
    expected_next_visit = models.DateField(_("expected next visit"), null=True)
    habit_weekday = models.PositiveSmallIntegerField(_("usual weekday"), null=True)
    habit_hour = models.PositiveSmallIntegerField(_("usual hour"), null=True)
    broken_habit = models.BooleanField(_("broken habit"), default=False)
    seasonal = models.BooleanField(_("seasonal"), default=False)
    season_start_month = models.PositiveSmallIntegerField(_("season starts"), null=True)

    # [{"key": ..., "ko": ..., "en": ...}], strongest first; empty for active customers.
    reasons = models.JSONField(_("reasons"), default=list)
    action_ko = models.CharField(max_length=200, blank=True)
    action_en = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "run", "customer"], name="score_unique_customer_per_run"
            )
        ]
        # Shop and run first (every query filters both), the customer last: a segment condition
        # on a score is then answered from the index alone, without fetching a million rows.
        indexes = [
            models.Index(fields=["shop", "run", "status", "customer"]),
            models.Index(fields=["shop", "run", "churn_probability", "customer"]),
            models.Index(fields=["shop", "run", "rfm_segment", "customer"]),
            models.Index(fields=["customer", "-computed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.status}"
