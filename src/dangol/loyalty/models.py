"""Loyalty: an append-only points ledger with lots, stamp cards, coupons, tiers and referrals.

Nothing here stores a balance. A points balance is the sum of the open lots (credits minus what
debits took from them); a stamp count is the sum of stamp entries; a coupon's state moves once,
from issued to redeemed or void, by a conditional update.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangol.core.tenancy import ShopScopedModel


class PointsPolicy(ShopScopedModel):
    """One version of a shop's earn rules. Never edited: a change is a new version, and a lot
    keeps the version (and so the validity) it was earned under."""

    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateTimeField(_("effective from"))
    # Basis points of the paid amount: 100 = 1 %.
    earn_rate_bp = models.PositiveIntegerField(_("earn rate (basis points)"), default=0)
    points_per_visit = models.PositiveIntegerField(_("points per visit"), default=0)
    # Purchases below this total earn nothing (KRW).
    min_amount = models.PositiveIntegerField(_("minimum amount (KRW)"), default=0)
    # [{"category": "커피", "points": 100} | {"product_id": 3, "points": 50}], per unit.
    item_rules = models.JSONField(_("item rules"), default=list, blank=True)
    # [{"name", "multiplier_pct", "weekdays": [0..6], "start_hour", "end_hour",
    #   "starts_on", "ends_on"}]: the largest matching multiplier applies (Seoul time).
    promotions = models.JSONField(_("promotions"), default=list, blank=True)
    validity_months = models.PositiveSmallIntegerField(_("validity (months)"), default=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("points policy")
        verbose_name_plural = _("points policies")
        constraints = [
            models.UniqueConstraint(fields=["shop", "version"], name="points_policy_version")
        ]
        indexes = [models.Index(fields=["shop", "effective_from"])]


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    BONUS = "bonus", _("Bonus")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted")
    REFUND = "refund", _("Refund reversal")


CREDIT_KINDS = (EntryKind.EARN, EntryKind.BONUS)
DEBIT_KINDS = (EntryKind.REDEEM, EntryKind.EXPIRE, EntryKind.REFUND)


class PointsEntry(ShopScopedModel):
    """One line of the ledger. A credit (points > 0) is a lot with an expiry; a debit
    (points < 0) takes from lots through allocations, oldest expiry first."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="points_entries"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    points = models.IntegerField(_("points"))
    occurred_at = models.DateTimeField(_("time"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    policy = models.ForeignKey(
        PointsPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    purchase = models.ForeignKey(
        "sales.Purchase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "purchase"],
                condition=models.Q(kind="earn"),
                name="points_earn_once_per_purchase",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["earn", "bonus"], points__gt=0, expires_at__isnull=False)
                    | models.Q(kind__in=["redeem", "expire", "refund"], points__lt=0)
                    | (models.Q(kind="adjust") & ~models.Q(points=0))
                ),
                name="points_entry_sign_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "customer", "occurred_at"]),
            models.Index(fields=["shop", "expires_at"]),
            models.Index(fields=["shop", "customer", "points"]),
        ]


class PointsAllocation(ShopScopedModel):
    """How many points a debit took from one lot. Written with the debit, never changed."""

    debit = models.ForeignKey(PointsEntry, on_delete=models.CASCADE, related_name="allocations")
    lot = models.ForeignKey(PointsEntry, on_delete=models.CASCADE, related_name="consumed_by")
    points = models.PositiveIntegerField(_("points"))

    class Meta:
        verbose_name = _("points allocation")
        verbose_name_plural = _("points allocations")
        constraints = [
            models.UniqueConstraint(fields=["shop", "debit", "lot"], name="points_alloc_once"),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="points_alloc_gt_0"),
        ]
