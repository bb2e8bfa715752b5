"""Nightly scoring: every shop, one task each, so one shop's failure never stops another."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from dangol.core.tenancy import shop_scope
from dangol.scoring.services import shop_score
from dangol.shops.models import Shop


@db_task(retries=1, retry_delay=600)
def shop_score_task(shop_id: int) -> int:
    shop = Shop.objects.get(pk=shop_id)
    with shop_scope(shop):
        return shop_score(shop=shop).pk


# 03:30 in Seoul (18:30 UTC; Huey reads crontabs in UTC): after the day's last sales, before
# anyone opens the dashboard.
@db_periodic_task(crontab(hour="18", minute="30"))
def nightly_scoring() -> int:
    shop_ids = list(Shop.objects.values_list("pk", flat=True))
    for shop_id in shop_ids:
        shop_score_task(shop_id)
    return len(shop_ids)
