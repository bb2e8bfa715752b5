"""Nightly: open deletion requests are executed (well within the 5-day limit), then each
shop's retention policy is applied."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from dangol.core.tenancy import shop_scope
from dangol.privacy.services import deletions_execute_due, retention_apply
from dangol.shops.models import Shop


def nightly_privacy_run() -> dict[str, int]:
    erased_on_request = retained = 0
    for shop in Shop.objects.order_by("pk"):
        with shop_scope(shop):
            erased_on_request += deletions_execute_due(shop=shop)
            run = retention_apply(shop=shop)
            retained += run.erased if run else 0
    return {"requests": erased_on_request, "retention": retained}


# 03:30 in Seoul (18:30 UTC; Huey reads crontabs in UTC).
@db_periodic_task(crontab(hour="18", minute="30"))
def nightly_privacy() -> dict[str, int]:
    return nightly_privacy_run()
