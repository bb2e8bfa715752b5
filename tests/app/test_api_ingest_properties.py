"""Properties of the POS API: any batch, replayed, leaves the same state (and answers each item
it created the first time as a duplicate); and schemathesis, walking the OpenAPI document of
the POS routes with a real key, never gets a server error."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from dangol.customers.models import ConsentEvent, Customer
from dangol.loyalty.models import PointsEntry, StampEntry
from dangol.loyalty.points import PolicyInput, points_policy_create
from dangol.loyalty.services import (
    CouponTemplateInput,
    StampCardInput,
    coupon_template_create,
    stamp_card_create,
)
from dangol.sales.models import Purchase, PurchaseLine
from dangol.shops.models import ApiScope
from dangol.shops.services import api_key_create

BASE = "/api/v1/pos"
_runs = itertools.count()


@pytest.fixture
def pos(two_shops, settings):
    settings.DANGOL_API_RATE_PER_SECOND = 1_000_000
    a = two_shops.a
    points_policy_create(
        shop=a.shop,
        data=PolicyInput(earn_rate_bp=300, points_per_visit=10),
        user=a.owner,
        now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )
    reward = coupon_template_create(
        shop=a.shop,
        data=CouponTemplateInput(name="무료 음료", kind="free_item", product_id=a.product.pk),
    )
    stamp_card_create(
        shop=a.shop,
        data=StampCardInput(
            name="도장", stamps_required=3, mode="visit", reward_template_id=reward.pk
        ),
    )
    _, raw = api_key_create(shop=a.shop, store=a.store, name="POS", scopes=ApiScope.values)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    return a, client, raw


def _state(shop) -> tuple:
    def rows(model, *fields):
        return sorted(model.objects.for_shop(shop).values_list(*fields))

    return (
        rows(Purchase, "pk", "external_id", "customer_id", "total", "discount", "status"),
        rows(PurchaseLine, "pk", "purchase_id", "product_id", "quantity", "amount"),
        rows(PointsEntry, "pk", "customer_id", "kind", "points", "purchase_id"),
        rows(StampEntry, "pk", "customer_id", "card_id", "stamps", "purchase_id"),
        rows(Customer, "pk", "phone_bidx"),
        rows(ConsentEvent, "pk"),
    )


PHONES = ["010-1111-2222", "010-2345-6789", "010-3456-7890", "not a phone", None]

line = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["아메리카노", "라떼", "=SUM(A1)", " "]),
        "quantity": st.integers(-1, 4),
        "unit_price": st.integers(-100, 20_000),
    },
    optional={"sku": st.sampled_from(["AME", "NOPE"])},
)
item = st.fixed_dictionaries(
    {
        "external_id": st.sampled_from([f"E{n}" for n in range(8)]),
        "occurred_at": st.sampled_from(
            ["2026-01-07T12:00:00+09:00", "2025-12-31T23:59:59Z", "2026-01-07T12:00:00", "x"]
        ),
        "lines": st.lists(line, min_size=0, max_size=3),
    },
    optional={
        "discount": st.integers(-10, 5_000),
        "customer_phone": st.sampled_from(PHONES),
        "customer_name": st.sampled_from(["정하늘", ""]),
    },
)


@given(batch=st.lists(item, min_size=1, max_size=12))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_batch_replayed_gives_the_same_state(pos, batch):
    shop, client, _ = pos
    run = next(_runs)
    for entry in batch:  # a fresh set of external ids per example
        entry["external_id"] = f"run{run}-{entry['external_id']}"
    body = json.dumps({"items": batch})
    first = client.post(f"{BASE}/purchases/batch", body, content_type="application/json")
    assert first.status_code == 200, first.content
    state = _state(shop.shop)
    second = client.post(f"{BASE}/purchases/batch", body, content_type="application/json")
    assert second.status_code == 200
    assert _state(shop.shop) == state
    for before, after in zip(first.json()["items"], second.json()["items"], strict=True):
        if before["status"] in ("created", "duplicate"):
            assert after["status"] == "duplicate"
            assert after["purchase_id"] == before["purchase_id"]
        else:
            assert after == before
    assert second.json()["created"] == 0


# Examples per route: eight routes in well under a minute.
SCHEMA_EXAMPLES = 30


@pytest.fixture
def wsgi_app():
    """The real WSGI application, kept from closing the test's database connection at the end
    of each request (as Django's test client does)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def test_pos_api_never_fails_with_a_server_error(pos, wsgi_app):
    """Each POS route of the OpenAPI document, fed schemathesis' examples (valid and not) with
    a real key: never a 5xx, every refusal JSON {code, message, details}."""
    _, _, raw = pos
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    operations = [op.ok() for op in schema.include(path_regex="^/api/v1/pos/").get_all_operations()]
    assert len(operations) == 8
    seen: dict[str, set[int]] = {}
    for operation in operations:

        @given(case=operation.as_strategy(), label=st.just(operation.label))
        @settings(
            max_examples=SCHEMA_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case, label):
            response = case.call(headers={"Authorization": f"Bearer {raw}"})
            case.validate_response(response, checks=[not_a_server_error])
            seen.setdefault(label, set()).add(response.status_code)
            if response.status_code >= 400:
                assert set(response.json()) == {"code", "message", "details"}

        check()
    # Valid examples got through, not only refusals.
    assert any(code < 300 for codes in seen.values() for code in codes), seen
