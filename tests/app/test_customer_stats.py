"""The per-customer totals rebuilt in SQL equal the same totals computed in plain Python."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangol.core.tenancy import shop_scope
from dangol.sales.models import RECENT_DAYS, CustomerStats, Purchase
from dangol.sales.services import LineInput, PurchaseInput, purchase_bulk_create
from dangol.sales.stats import customer_stats_rebuild
from tests.app.factories import make_customer, make_shop

SEOUL = ZoneInfo("Asia/Seoul")
BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_shops = itertools.count(1)

# One purchase: (customer index, minutes after BASE, amount, paid?). Minutes land on both sides
# of Seoul's midnight (15:00 UTC) and across month ends.
purchase = st.tuples(
    st.integers(0, 3),
    st.integers(0, 400 * 24 * 60),
    st.integers(1, 90_000),
    st.sampled_from([True, True, True, False]),
)


def _expected(purchases: list[tuple[int, dt.datetime, int, bool]], ids: list[int]) -> dict:
    out = {}
    for index, customer_id in enumerate(ids):
        paid = sorted(
            ((at, amount) for c, at, amount, ok in purchases if c == index and ok), reverse=True
        )
        if not paid:
            continue
        times = [at for at, _ in paid]
        total = sum(amount for _, amount in paid)
        days = [at.astimezone(SEOUL).date() for at in times]
        mask = 0
        for at in times:
            mask |= 1 << (at.astimezone(SEOUL).month - 1)
        out[customer_id] = {
            "visits": len(paid),
            "total_spend": total,
            "avg_ticket": total / len(paid),
            "first_purchase_at": min(times),
            "last_purchase_at": max(times),
            "months_mask": mask,
            **{
                f"recent_day_{k}": days[k - 1] if len(days) >= k else None
                for k in range(2, RECENT_DAYS + 1)
            },
        }
    return out


def _actual(shop) -> dict:
    rows = CustomerStats.objects.for_shop(shop).values()
    fields = ("shop_id", "customer_id")
    return {r["customer_id"]: {k: v for k, v in r.items() if k not in fields} for r in rows}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(purchase, max_size=40))
def test_rebuild_equals_a_python_reference(db, items):
    shop, store, _, product = make_shop(f"stats-{next(_shops)}")
    with shop_scope(shop):
        customers = [make_customer(shop, name=f"손님{i}") for i in range(4)]
        ids = [c.pk for c in customers]
        purchases = [(c, BASE + dt.timedelta(minutes=m), amount, ok) for c, m, amount, ok in items]
        purchase_bulk_create(
            shop=shop,
            rows=[
                PurchaseInput(
                    store_id=store.pk,
                    customer_id=ids[c],
                    source="pos",
                    external_id=f"P-{n}",
                    occurred_at=at,
                    status="paid" if ok else "refunded",
                    lines=[LineInput(product=product, name="x", quantity=1, unit_price=amount)],
                )
                for n, (c, at, amount, ok) in enumerate(purchases)
            ],
        )
        expected = _expected(purchases, ids)
        # purchase_bulk_create rebuilt the customers it touched; a whole-shop rebuild and a
        # rebuild of one customer at a time give the same rows.
        assert _actual(shop) == expected
        assert customer_stats_rebuild(shop=shop) == len(expected)
        assert _actual(shop) == expected
        for customer_id in ids:
            customer_stats_rebuild(shop=shop, customer_ids=[customer_id])
        assert _actual(shop) == expected


def test_rebuild_drops_the_totals_of_a_customer_whose_purchases_were_all_refunded(db):
    shop, store, _, product = make_shop("refunds")
    with shop_scope(shop):
        customer = make_customer(shop)
        purchase_bulk_create(
            shop=shop,
            rows=[
                PurchaseInput(
                    store_id=store.pk,
                    customer_id=customer.pk,
                    source="pos",
                    external_id="R-1",
                    occurred_at=BASE,
                    lines=[LineInput(product=product, name="x", quantity=1, unit_price=4500)],
                )
            ],
        )
        assert CustomerStats.objects.for_shop(shop).filter(customer=customer).exists()
        Purchase.objects.for_shop(shop).update(status="refunded")
        assert customer_stats_rebuild(shop=shop, customer_ids=[customer.pk]) == 0
        assert not CustomerStats.objects.for_shop(shop).filter(customer=customer).exists()
