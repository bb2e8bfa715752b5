"""The access log (개인정보 접속기록): who did what to whose personal data, when, from where.

Append-only: the services only ever insert, the admin is read-only, and nothing in the product
updates or deletes a row except the retention purge of rows older than the legal period.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangol.core.tenancy import ShopScopedModel


class AuditAction(models.TextChoices):
    VIEW = "view", _("View (조회)")
    CHANGE = "change", _("Change (수정)")
    DELETE = "delete", _("Delete (삭제)")
    EXPORT = "export", _("Download / export (다운로드)")


class AuditEvent(ShopScopedModel):
    at = models.DateTimeField(_("time"), default=timezone.now)
    # The account at the time; the name is kept so the record survives the account's removal.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    username = models.CharField(_("account"), max_length=150)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    # What was touched: "customer", "segment", "customer_list", ... and its id if it has one.
    object_type = models.CharField(_("object"), max_length=40)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    # A plain id, not a foreign key: the record must outlive the customer's deletion.
    customer_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    via = models.CharField(_("via"), max_length=10, default="web")

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["shop", "at"]),
            models.Index(fields=["shop", "customer_id", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}"
