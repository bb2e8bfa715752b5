"""Nightly loyalty work, one task per shop so one shop's failure never stops another."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from dangol.core.tenancy import shop_scope
from dangol.loyalty.points import points_expire
from dangol.loyalty.tiers import tiers_evaluate
from dangol.shops.models import Shop


@db_task(retries=1, retry_delay=600)
def points_expire_task(shop_id: int) -> int:
    shop = Shop.objects.get(pk=shop_id)
    with shop_scope(shop):
        return points_expire(shop=shop)


# 00:10 in Seoul (15:10 UTC; Huey reads crontabs in UTC): points of a day expire just after its
# midnight, before the nightly scores (03:30) and segments (04:30) read balances.
@db_periodic_task(crontab(hour="15", minute="10"))
def nightly_points_expiry() -> int:
    shop_ids = list(Shop.objects.values_list("pk", flat=True))
    for shop_id in shop_ids:
        points_expire_task(shop_id)
    return len(shop_ids)


@db_task(retries=1, retry_delay=600)
def tiers_evaluate_task(shop_id: int) -> dict[str, int]:
    shop = Shop.objects.get(pk=shop_id)
    with shop_scope(shop):
        return tiers_evaluate(shop=shop)


# 00:20 in Seoul (15:20 UTC): tiers over the rolling window that ended at midnight.
@db_periodic_task(crontab(hour="15", minute="20"))
def nightly_tiers() -> int:
    shop_ids = list(Shop.objects.values_list("pk", flat=True))
    for shop_id in shop_ids:
        tiers_evaluate_task(shop_id)
    return len(shop_ids)
