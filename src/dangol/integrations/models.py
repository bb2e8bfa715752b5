"""Outgoing webhooks: a shop's subscriptions, one delivery row per (subscription, event), the
change-capture cursors that feed them, and the append-only log of every HTTP attempt.

No signals: events are found by a periodic, set-based read of what is new since a cursor
(``capture.py``); deliveries are claimed and posted like the message outbox (``delivery.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangol.core.fields import EncryptedTextField
from dangol.core.tenancy import ShopScopedModel


class EventType(models.TextChoices):
    CUSTOMER_CREATED = "customer.created", _("New customer")
    PURCHASE_CREATED = "purchase.created", _("New purchase")
    SEGMENT_ENTERED = "segment.entered", _("Entered a segment")
    COUPON_REDEEMED = "coupon.redeemed", _("Coupon redeemed")
    MESSAGE_SENT = "message.sent", _("Message sent")


# Sent by the owner's "send a test event" button; never a subscribable event type.
TEST_EVENT = "webhook.test"


class WebhookSubscription(ShopScopedModel):
    # Its encrypted column is the shop's own signing secret, no one's personal data: erasure
    # of a customer has nothing to purge here (key rotation still re-encrypts it).
    holds_personal_data = False

    url = models.URLField(_("URL"), max_length=500)
    event_types = models.JSONField(_("events"), default=list)
    # Shown to the owner once, when the subscription is made; encrypted at rest.
    secret = EncryptedTextField(_("signing secret"))
    description = models.CharField(_("description"), max_length=80, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        indexes = [models.Index(fields=["shop", "active"])]

    def __str__(self) -> str:
        return self.url


class WebhookCursor(ShopScopedModel):
    """How far change capture has read one event type for one subscription.

    ``last_id`` (and ``last_at`` for events found by time) is the newest event already turned
    into deliveries; ``floor_id``/``floor_at`` is where the subscription started, so the short
    re-read that catches late commits never reaches events from before the subscription.
    """

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="cursors"
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    last_at = models.DateTimeField(null=True, blank=True)
    last_id = models.BigIntegerField(default=0)
    floor_at = models.DateTimeField(null=True, blank=True)
    floor_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "subscription", "event_type"], name="webhook_cursor_unique"
            )
        ]


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    GAVE_UP = "gave_up", _("Gave up")


class WebhookDelivery(ShopScopedModel):
    """One event for one subscription. The unique key makes capturing it twice impossible."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(_("event"), max_length=40)
    # The id of the event's source row (customer, purchase, stay, coupon, message).
    event_id = models.BigIntegerField()
    # Ids, amounts, times and keys only: no names, phones masked.
    payload = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # The claim: a worker's token and when its lease runs out.
    claimed_by = models.CharField(max_length=40, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "subscription", "event_type", "event_id"],
                name="webhook_delivery_once",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["shop", "subscription", "created_at"]),
            models.Index(fields=["shop", "created_at"]),
        ]


class WebhookAttempt(ShopScopedModel):
    """Append-only: one row per HTTP attempt of a delivery, never changed afterwards."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # What the attempt led to: delivered, retry, failed or gave_up.
    outcome = models.CharField(max_length=10)

    class Meta:
        indexes = [models.Index(fields=["delivery", "at"])]
