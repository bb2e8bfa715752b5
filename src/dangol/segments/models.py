"""Segments: a named rule over customers, and who entered and left it when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangol.core.tenancy import ShopScopedModel


class Segment(ShopScopedModel):
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The rule tree as JSON (see segments/rules.py); written by the builder, never typed.
    rule = models.JSONField(_("rule"))
    # Set for the built-in pack ("vip", "dormant", ...); owners copy these to edit them.
    builtin_key = models.CharField(max_length=40, blank=True)
    archived = models.BooleanField(_("archived"), default=False)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "builtin_key"],
                condition=~models.Q(builtin_key=""),
                name="segment_unique_builtin_per_shop",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(ShopScopedModel):
    """One stay of a customer in a segment; open while ``exited_at`` is empty."""

    # No index of their own: (shop, segment, ...), (segment, ...) and (customer, ...) below
    # start with them, and every index is paid for by each of the millions of stays a refresh
    # can open.
    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="segment_memberships",
        db_index=False,
    )
    entered_at = models.DateTimeField()
    exited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("segment membership")
        verbose_name_plural = _("segment memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "segment", "customer"],
                condition=models.Q(exited_at=None),
                name="membership_one_open_stay",
            )
        ]
        indexes = [
            # The segment's history: stays by their latest event, newest first.
            models.Index(
                F("segment"), Coalesce("exited_at", "entered_at").desc(), name="membership_latest"
            ),
            models.Index(fields=["segment", "entered_at"]),
            models.Index(fields=["customer", "entered_at"]),
        ]


class SegmentCount(ShopScopedModel):
    """Members per segment per day, for the trend line."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="counts")
    day = models.DateField()
    members = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "segment", "day"], name="segment_count_per_day")
        ]
