"""Data-subject requests (PIPA 35–37), erasures, and the shop's retention policy.

Requests and their events hold no personal data of their own: the customer is a link, the
notes say what was done, never the old or new values.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangol.core.tenancy import ShopScopedModel

# 시행령 41④, 43③, 44②: answer within 10 days.
ANSWER_DAYS = 10
# 표준 개인정보 보호지침: "without delay" read as within 5 days.
ERASE_DAYS = 5
MIN_RETENTION_YEARS = 1


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access (열람)")
    CORRECTION = "correction", _("Correction (정정)")
    DELETION = "deletion", _("Deletion (삭제)")
    STOP = "stop", _("Stop processing (처리정지)")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused")


class RequestChannel(models.TextChoices):
    STAFF = "staff", _("Entered by staff")
    SELF = "self", _("The customer's own page")


class DataSubjectRequest(ShopScopedModel):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=RequestKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    channel = models.CharField(_("channel"), max_length=10, choices=RequestChannel.choices)
    received_at = models.DateTimeField(_("received"))
    due_at = models.DateTimeField(_("answer due"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution_notes = models.TextField(_("resolution notes"), blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        indexes = [models.Index(fields=["shop", "status", "due_at"])]


class DataSubjectRequestEvent(ShopScopedModel):
    """Append-only history of a request: received, fulfilled, corrected, refused, ..."""

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20)
    note = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["request", "at"])]


class ErasureSource(models.TextChoices):
    REQUEST = "request", _("Deletion request")
    RETENTION = "retention", _("Retention policy")


class Erasure(ShopScopedModel):
    """The record that a customer's personal data was purged (the row stays, anonymous)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    erased_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=ErasureSource.choices)
    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # How many rows of each kind were purged: {"outbox": 3, "identities": 2, ...}.
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "customer"], name="erasure_once_per_customer")
        ]


class RetentionPolicy(ShopScopedModel):
    """Delete customers inactive for ``inactive_years`` (None: the policy is off)."""

    inactive_years = models.PositiveSmallIntegerField(
        _("delete after years of inactivity"), null=True, blank=True
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop"], name="retention_policy_per_shop")]


class RetentionRun(ShopScopedModel):
    """One nightly application of the policy: the report the privacy page shows."""

    ran_at = models.DateTimeField(default=timezone.now)
    inactive_years = models.PositiveSmallIntegerField()
    cutoff = models.DateTimeField()
    erased = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["shop", "ran_at"])]
