"""The dispatcher runs every minute; each round claims, gates, sends and reconciles."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from dangol.core.tenancy import shop_scope
from dangol.messaging.config import providers_from_environment
from dangol.messaging.consent_notices import consent_notices_queue
from dangol.messaging.dispatch import outbox_dispatch
from dangol.shops.models import Shop


@db_periodic_task(crontab(minute="*"))
@lock_task("outbox-dispatch")
def dispatch_outbox() -> int:
    report = outbox_dispatch(providers=providers_from_environment(), limit=500)
    return report.claimed


@db_periodic_task(crontab(minute="15"))
def queue_consent_notices() -> int:
    """Hourly: the 14-day result notices and the 2-year reconfirmations, each queued once."""
    queued = 0
    for shop in Shop.objects.all():
        with shop_scope(shop):
            queued += sum(consent_notices_queue(shop=shop))
    return queued
