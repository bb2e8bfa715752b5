"""The shop's retention policy: customers inactive for N years are erased nightly (PIPA 21)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from dangol.audit.models import AuditAction
from dangol.audit.services import audit_record
from dangol.customers.models import ConsentEvent, Customer
from dangol.loyalty.models import Checkin
from dangol.privacy.erasure import (
    customer_erase,
    customer_family,
    customer_needles,
    import_uploads_purge,
)
from dangol.privacy.models import (
    MIN_RETENTION_YEARS,
    Erasure,
    ErasureSource,
    RetentionPolicy,
    RetentionRun,
)
from dangol.sales.models import Purchase
from dangol.shops.models import Shop

MAX_RETENTION_YEARS = 50


class RetentionError(ValueError):
    def __init__(self, ko: str, en: str) -> None:
        self.ko, self.en = ko, en
        super().__init__(f"{ko} / {en}")


@transaction.atomic
def retention_policy_set(
    *, shop: Shop, inactive_years: int | None, actor: Any = None, ip_address: str | None = None
) -> RetentionPolicy:
    """Turn the policy on (at least one year) or off (None)."""
    if inactive_years is not None and not (
        MIN_RETENTION_YEARS <= inactive_years <= MAX_RETENTION_YEARS
    ):
        raise RetentionError(
            f"보관 기간은 {MIN_RETENTION_YEARS}년 이상 {MAX_RETENTION_YEARS}년 이하로 정하세요.",
            f"The period must be {MIN_RETENTION_YEARS} to {MAX_RETENTION_YEARS} years.",
        )
    policy, _ = RetentionPolicy.objects.for_shop(shop).update_or_create(
        shop=shop,
        defaults={
            "inactive_years": inactive_years,
            "updated_by": actor if getattr(actor, "is_authenticated", False) else None,
            "updated_at": timezone.now(),
        },
    )
    audit_record(
        shop=shop,
        user=actor,
        action=AuditAction.CHANGE,
        object_type="retention_policy",
        object_id=policy.pk,
        reason=f"inactive_years={inactive_years}",
        ip_address=ip_address,
    )
    return policy


def _cutoff(now: dt.datetime, years: int) -> dt.datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def inactive_customers(*, shop: Shop, cutoff: dt.datetime) -> list[int]:
    """Customers met before the cutoff with no purchase, check-in or consent change since,
    not yet erased and not merged away (their survivor decides)."""
    since = {"customer": OuterRef("pk")}
    return list(
        Customer.objects.for_shop(shop)
        .filter(merged_into__isnull=True, created_at__lt=cutoff)
        .exclude(Exists(Purchase.objects.for_shop(shop).filter(**since, occurred_at__gte=cutoff)))
        .exclude(Exists(Checkin.objects.for_shop(shop).filter(**since, occurred_at__gte=cutoff)))
        .exclude(
            Exists(ConsentEvent.objects.for_shop(shop).filter(**since, occurred_at__gte=cutoff))
        )
        .exclude(Exists(Erasure.objects.for_shop(shop).filter(**since)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def retention_apply(*, shop: Shop, now: dt.datetime | None = None) -> RetentionRun | None:
    """Erase every inactive customer under the shop's policy; None when the policy is off.
    Each customer is its own transaction: a failure leaves the others erased."""
    policy = RetentionPolicy.objects.for_shop(shop).first()
    if policy is None or not policy.inactive_years:
        return None
    now = now or timezone.now()
    cutoff = _cutoff(now, policy.inactive_years)
    customers = list(
        Customer.objects.for_shop(shop).filter(pk__in=inactive_customers(shop=shop, cutoff=cutoff))
    )
    # Stored uploads first, once for the whole batch (each file read once): an upload older
    # than the retention period goes in any case. Done before the erasures, so a crash in
    # between leaves customers still to erase (and scan for) the next night, never the reverse.
    needles: set[str] = set()
    for customer in customers:
        for person in customer_family(shop=shop, customer=customer):
            needles |= customer_needles(person)
    if customers:
        import_uploads_purge(shop=shop, needles=needles, before=cutoff)
    erased = 0
    for customer in customers:
        customer_erase(
            shop=shop, customer=customer, source=ErasureSource.RETENTION, scan_imports=False
        )
        erased += 1
    run = RetentionRun.objects.for_shop(shop).create(
        shop=shop, ran_at=now, inactive_years=policy.inactive_years, cutoff=cutoff, erased=erased
    )
    audit_record(
        shop=shop,
        user=None,
        action=AuditAction.DELETE,
        object_type="retention_run",
        object_id=run.pk,
        rows=erased,
        reason=f"inactive since {cutoff:%Y-%m-%d}",
        via="task",
    )
    return run
