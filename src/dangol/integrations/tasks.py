"""Every minute: capture new events per shop (one task each), then send what is due."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from dangol.core.tenancy import shop_scope
from dangol.integrations.capture import webhook_events_capture
from dangol.integrations.delivery import webhook_deliveries_send
from dangol.integrations.models import WebhookSubscription
from dangol.shops.models import Shop


@db_task(retries=1, retry_delay=60)
def webhook_events_capture_task(shop_id: int) -> int:
    shop = Shop.objects.get(pk=shop_id)
    with shop_scope(shop):
        return webhook_events_capture(shop=shop)


@db_periodic_task(crontab(minute="*"))
def capture_webhook_events() -> int:
    shop_ids = sorted(
        set(WebhookSubscription.unscoped.filter(active=True).values_list("shop_id", flat=True))
    )
    for shop_id in shop_ids:
        webhook_events_capture_task(shop_id)
    return len(shop_ids)


@db_periodic_task(crontab(minute="*"))
@lock_task("webhook-deliveries")
def send_webhook_deliveries() -> int:
    return webhook_deliveries_send().claimed
