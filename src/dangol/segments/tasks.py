"""Segment memberships are refreshed every night after the scores, one task per shop."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from dangol.core.tenancy import shop_scope
from dangol.segments.services import shop_segments_refresh
from dangol.shops.models import Shop


@db_task(retries=1, retry_delay=600)
def shop_segments_refresh_task(shop_id: int) -> int:
    shop = Shop.objects.get(pk=shop_id)
    with shop_scope(shop):
        return shop_segments_refresh(shop=shop)


# 04:30 in Seoul (19:30 UTC), an hour after the nightly scoring starts.
@db_periodic_task(crontab(hour="19", minute="30"))
def nightly_segments() -> int:
    shop_ids = list(Shop.objects.values_list("pk", flat=True))
    for shop_id in shop_ids:
        shop_segments_refresh_task(shop_id)
    return len(shop_ids)
