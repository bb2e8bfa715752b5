from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.app.factories import make_customer, make_purchases, make_shop


@pytest.fixture
def two_shops(db):
    """Two tenants with a customer and purchases each."""
    a_shop, a_store, a_owner, a_product = make_shop("alpha")
    b_shop, b_store, b_owner, b_product = make_shop("beta")
    a_customer = make_customer(
        a_shop, name="김민지", phone="010-1111-2222", email="minji@example.com"
    )
    b_customer = make_customer(b_shop, name="박서준", phone="010-3333-4444")
    make_purchases(a_shop, a_store, a_product, a_customer, days_ago=[1, 8, 40])
    make_purchases(b_shop, b_store, b_product, b_customer, days_ago=[2])
    return SimpleNamespace(
        a=SimpleNamespace(
            shop=a_shop, store=a_store, owner=a_owner, product=a_product, customer=a_customer
        ),
        b=SimpleNamespace(
            shop=b_shop, store=b_store, owner=b_owner, product=b_product, customer=b_customer
        ),
    )
