"""Templates, the outbox (one row per message before any provider is called), its status
history, and suppressions (080 opt-outs, unsubscribes)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangol.core.fields import EncryptedTextField
from dangol.core.tenancy import ShopScopedModel


class Channel(models.TextChoices):
    SMS = "sms", _("SMS / LMS")
    ALIMTALK = "alimtalk", _("KakaoTalk AlimTalk")
    BRAND = "brand", _("KakaoTalk Brand Message")
    EMAIL = "email", _("E-mail")
    PUSH = "push", _("Push")


class Kind(models.TextChoices):
    AD = "ad", _("Advertising")
    INFO = "info", _("Information")


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    HELD = "held", _("Held")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    BLOCKED = "blocked", _("Blocked")
    SUPPRESSED = "suppressed", _("Suppressed")
    UNKNOWN = "unknown", _("Outcome unknown")


class MessageTemplate(ShopScopedModel):
    name = models.CharField(_("name"), max_length=80)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # Unknown is advertising: a template must say it is information to be sent as such.
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.AD)
    subject = models.CharField(_("subject"), max_length=120, blank=True)
    body = models.TextField(_("body"))
    kakao_template_code = models.CharField(max_length=20, blank=True)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return self.name


class OutboxMessage(ShopScopedModel):
    """One message to one customer on one channel, written before any provider is called."""

    # No single-column indexes on shop and customer: the unique (shop, key), (shop, created_at)
    # and (customer, kind, status, created_at) indexes start with them, and each index is paid
    # by every one of the 100,000 rows a campaign writes (PostgreSQL: 10.2 -> 8.1 s).
    shop = models.ForeignKey(
        "shops.Shop", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    idempotency_key = models.CharField(max_length=200)
    source = models.CharField(_("source"), max_length=60)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        related_name="messages",
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    # Addresses and texts carry personal data (names, phones): encrypted like the profile.
    to_address = EncryptedTextField(_("to"))
    sender = models.CharField(_("sender"), max_length=120, blank=True)
    subject = EncryptedTextField(_("subject"), blank=True)
    body = EncryptedTextField(_("body"))
    final_body = EncryptedTextField(_("final body"), blank=True)
    final_subject = EncryptedTextField(_("final subject"), blank=True)
    message_type = models.CharField(max_length=10, blank=True)
    scheduled_for = models.DateTimeField(_("scheduled for"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    reasons = models.JSONField(_("reasons"), default=list)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=40, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=30, blank=True)
    provider_message_id = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "idempotency_key"], name="outbox_unique_idempotency_key"
            )
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_for"]),
            models.Index(fields=["shop", "created_at"]),
            models.Index(fields=["customer", "kind", "status", "created_at"]),
        ]


class OutboxEvent(ShopScopedModel):
    """Append-only history of a message's status, with the reasons of each decision."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices)
    reasons = models.JSONField(default=list)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["message", "at"])]


class Suppression(ShopScopedModel):
    """A number or address that must not receive ads on a channel (080 opt-out, unsubscribe)."""

    address_bidx = models.CharField(max_length=64)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    source = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "address_bidx", "channel"], name="suppression_unique"
            )
        ]
