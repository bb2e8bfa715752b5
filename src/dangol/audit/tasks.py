"""The access log keeps two years; older rows are purged nightly."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from dangol.audit.services import audit_purge_expired
from dangol.core.tenancy import shop_scope
from dangol.shops.models import Shop


# 05:00 in Seoul (20:00 UTC).
@db_periodic_task(crontab(hour="20", minute="0"))
def nightly_audit_purge() -> int:
    purged = 0
    for shop in Shop.objects.all():
        with shop_scope(shop):
            purged += audit_purge_expired(shop=shop)
    return purged
