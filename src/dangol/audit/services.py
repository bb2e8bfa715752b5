"""Writes to the access log: one row per staff read, change, deletion or export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from dangol.audit.models import AuditAction, AuditEvent
from dangol.shops.models import Shop

# 고시 8조: at least one year, two years for shops with 50,000+ people; two years for everyone.
RETENTION_DAYS = 2 * 365 + 1


class AuditError(ValueError):
    def __init__(self, ko: str, en: str):
        self.ko, self.en = ko, en
        super().__init__(f"{ko} / {en}")


def audit_record(
    *,
    shop: Shop,
    user: Any,
    action: str,
    object_type: str,
    object_id: Any = "",
    customer_id: int | None = None,
    rows: int | None = None,
    reason: str = "",
    ip_address: str | None = None,
    via: str = "web",
) -> AuditEvent:
    """Append one access-log row. Exports must carry a reason (고시 8조)."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}")
    # NUL cannot be stored by PostgreSQL and no one types it: drop it rather than fail to log.
    reason = (reason or "").replace("\x00", "").strip()
    if action == AuditAction.EXPORT and not reason:
        raise AuditError("내보내는 이유를 적어 주세요.", "An export needs a reason.")
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditEvent.objects.for_shop(shop).create(
        shop=shop,
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        ip_address=ip_address or None,
        action=action,
        object_type=object_type,
        object_id=str(object_id or "").replace("\x00", "")[:40],
        customer_id=customer_id,
        rows=rows,
        reason=reason[:300],
        via=via,
    )


def audit_purge_expired(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """Delete rows older than the retention period; returns how many went."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.for_shop(shop).filter(at__lt=cutoff).delete()
    return deleted
