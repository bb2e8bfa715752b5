"""The dispatcher runs every minute; each round claims, gates, sends and reconciles."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from dangol.messaging.config import providers_from_environment
from dangol.messaging.dispatch import outbox_dispatch


@db_periodic_task(crontab(minute="*"))
@lock_task("outbox-dispatch")
def dispatch_outbox() -> int:
    report = outbox_dispatch(providers=providers_from_environment(), limit=500)
    return report.claimed
