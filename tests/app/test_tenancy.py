"""Tenancy fails closed: no scope, no rows; another shop's ids give 404/403 everywhere."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dangol.audit.models import AuditEvent
from dangol.core.tenancy import NoShopInScope, ShopScopedModel, shop_scope
from dangol.customers.merging import customer_merge
from dangol.customers.models import (
    ConsentEvent,
    Customer,
    CustomerIdentity,
    CustomerMerge,
    MergeDismissal,
)
from dangol.imports.services import import_upload
from dangol.integrations.services import webhook_subscription_create
from dangol.loyalty.checkin import checkin_device_create
from dangol.privacy.services import dsr_create
from dangol.sales.models import CustomerStats, Product, Purchase, PurchaseLine
from dangol.scoring.models import CustomerScore, ScoringRun
from dangol.segments.models import Segment, SegmentCount, SegmentMembership
from dangol.segments.services import segment_create
from dangol.shops.models import ApiKey, Membership, Store
from tests.app.factories import make_customer

SCOPED_MODELS = [
    Store,
    Membership,
    ApiKey,
    Customer,
    CustomerIdentity,
    ConsentEvent,
    CustomerMerge,
    MergeDismissal,
    Product,
    Purchase,
    PurchaseLine,
    CustomerStats,
    ScoringRun,
    CustomerScore,
    Segment,
    SegmentMembership,
    SegmentCount,
    AuditEvent,
]
TENANT_APPS = {"shops", "customers", "sales", "scoring", "segments", "audit"}


def test_every_tenant_table_is_shop_scoped():
    tenant_models = [
        m for m in apps.get_models() if m._meta.app_label in TENANT_APPS and m.__name__ != "Shop"
    ]
    assert set(tenant_models) == set(SCOPED_MODELS)
    for model in tenant_models:
        assert issubclass(model, ShopScopedModel)
        assert model._default_manager.__class__.__name__ == "ShopScopedManager"


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_default_manager_raises_without_a_shop(two_shops, model):
    with pytest.raises(NoShopInScope):
        list(model.objects.all())
    with pytest.raises(NoShopInScope):
        model.objects.count()


def test_scope_shows_only_own_rows(two_shops):
    with shop_scope(two_shops.a.shop):
        names = [c.name for c in Customer.objects.all()]
        assert names == ["김민지"]
        assert Purchase.objects.count() == 3
        assert not Customer.objects.filter(pk=two_shops.b.customer.pk).exists()
    with shop_scope(two_shops.b.shop):
        assert [c.name for c in Customer.objects.all()] == ["박서준"]
    assert Customer.unscoped.count() == 2


def test_reverse_relations_respect_scope(two_shops):
    customer = Customer.unscoped.get(pk=two_shops.a.customer.pk)
    with pytest.raises(NoShopInScope):
        list(customer.purchases.all())
    with shop_scope(two_shops.a.shop):
        assert customer.purchases.count() == 3


def test_other_shops_customer_page_is_404(client, two_shops):
    client.force_login(two_shops.b.owner)
    response = client.get(reverse("web:customer", args=[two_shops.a.customer.pk]))
    assert response.status_code == 404
    own = client.get(reverse("web:customer", args=[two_shops.b.customer.pk]))
    assert own.status_code == 200
    assert "박서준" in own.content.decode()


def test_other_shops_customer_never_listed(client, two_shops):
    client.force_login(two_shops.b.owner)
    body = client.get(reverse("web:customers")).content.decode()
    assert "박서준" in body and "김민지" not in body
    body = client.get(reverse("web:customers"), {"q": "2222"}).content.decode()
    assert "김민지" not in body


def _web_routes():
    resolver = get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver) and getattr(pattern, "namespace", None) == "web":
            for inner in pattern.url_patterns:
                if isinstance(inner, URLPattern):
                    yield inner


# No login: the shop comes from the URL (verified webhooks) or a signed token; tested apart.
# Reached by a token, not by a login: their foreign and forged tokens are tested where they are
# built (provider webhooks, unsubscribe, the tablet's pairing link, the customer's own page).
PUBLIC_ROUTES = {
    "webhook",
    "webhook_token",
    "unsubscribe",
    "checkin_pair",
    "customer_page",
    "customer_page_consent",
    "customer_page_request",
}


def _loyalty_rows(shop):
    """A stamp card and a referral of ``shop``, for the loyalty routes that take their ids."""
    from dangol.customers.services import CustomerInput, customer_create
    from dangol.loyalty.services import (
        CouponTemplateInput,
        StampCardInput,
        coupon_template_create,
        referral_code_issue,
        referral_program_set,
        referral_register,
        stamp_card_create,
    )

    reward = coupon_template_create(
        shop=shop, data=CouponTemplateInput(name="R", kind="amount", value=1000)
    )
    card = stamp_card_create(
        shop=shop,
        data=StampCardInput(
            name="C", stamps_required=5, mode="visit", reward_template_id=reward.pk
        ),
    )
    referral_program_set(shop=shop, referee_points=10)
    referrer = customer_create(shop=shop, data=CustomerInput(name="추천", phone="010-3131-1313"))
    referee = customer_create(shop=shop, data=CustomerInput(name="친구", phone="010-3232-2323"))
    code = referral_code_issue(shop=shop, customer=referrer).code
    return card, referral_register(shop=shop, referee=referee, code=code)


def test_walk_every_owner_route_with_other_shops_ids(client, two_shops):
    """Every web route that takes an id answers 404/403 for another shop's row, by GET and, for
    routes that only accept POST, by POST."""
    rule = {"condition": "visits", "op": "gte", "value": 1}
    with shop_scope(two_shops.a.shop):
        theirs = segment_create(shop=two_shops.a.shop, name="A", rule=rule)
    with shop_scope(two_shops.b.shop):
        ours = segment_create(shop=two_shops.b.shop, name="B", rule=rule)
    with shop_scope(two_shops.a.shop):
        their_import = import_upload(
            shop=two_shops.a.shop, kind="customers", data=b"name,phone\n", file_name="a.csv"
        )
    their_card, their_referral = _loyalty_rows(two_shops.a.shop)
    with shop_scope(two_shops.a.shop):
        their_device, _ = checkin_device_create(
            shop=two_shops.a.shop,
            store=two_shops.a.store,
            name="카운터",
            staff_pin="2468",
            user=two_shops.a.owner,
        )
        their_request = dsr_create(
            shop=two_shops.a.shop, customer=two_shops.a.customer, kind="deletion"
        )
        their_twin = make_customer(two_shops.a.shop, name="김민지", phone="010-8888-2222")
        their_merge = customer_merge(
            shop=two_shops.a.shop, keep=two_shops.a.customer, merge=their_twin, user=None
        )
        their_webhook = webhook_subscription_create(
            shop=two_shops.a.shop,
            url="https://hooks.example.com/a",
            event_types=["purchase.created"],
        ).subscription
    client.force_login(two_shops.b.owner)
    foreign_ids = {
        "customer_id": two_shops.a.customer.pk,
        "segment_id": theirs.pk,
        "run_id": their_import.pk,
        "card_id": their_card.pk,
        "referral_id": their_referral.pk,
        "request_id": their_request.pk,
        "device_id": their_device.pk,
        "subscription_id": their_webhook.pk,
        "merge_id": their_merge.pk,
    }
    # Our own segment with their customer must not leak either.
    mixed_ids = {"customer_id": two_shops.a.customer.pk, "segment_id": ours.pk}
    checked = 0
    for route in _web_routes():
        params = set(route.pattern.converters)
        if not params or route.name in PUBLIC_ROUTES:
            continue
        assert params <= set(foreign_ids) | {"name"}, f"add a foreign id for {route.name}"
        if "name" in params:
            continue
        for ids in (foreign_ids, mixed_ids):
            if ids is mixed_ids and params != {"customer_id", "segment_id"}:
                continue
            url = reverse(f"web:{route.name}", kwargs={k: ids[k] for k in params})
            status = client.get(url).status_code
            if status == 405:
                status = client.post(url, {"reason": "분석"}).status_code
            assert status in (403, 404), (url, status)
            checked += 1
    assert checked >= 1


def test_api_refuses_other_shops_customer(client, two_shops):
    client.force_login(two_shops.b.owner)
    response = client.get(f"/api/v1/customers/{two_shops.a.customer.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    own = client.get(f"/api/v1/customers/{two_shops.b.customer.pk}")
    assert own.status_code == 200
    assert own.json()["phone_masked"] == "010-****-4444"


def test_api_requires_login(client, two_shops):
    response = client.get(f"/api/v1/customers/{two_shops.a.customer.pk}")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_admin_hides_other_shops_rows(client, two_shops):
    owner = two_shops.b.owner
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    listing = client.get("/admin/customers/customer/")
    assert listing.status_code == 200
    assert "박서준" in listing.content.decode() and "김민지" not in listing.content.decode()
    foreign = client.get(f"/admin/customers/customer/{two_shops.a.customer.pk}/change/")
    assert foreign.status_code in (302, 403, 404)
    if foreign.status_code == 302:  # Django's admin redirects a missing object to the index
        assert "/admin/" in foreign["Location"]
    assert client.get("/admin/shops/shop/").status_code == 403


def test_user_without_membership_is_refused(client, django_user_model, two_shops):
    outsider = django_user_model.objects.create_user(
        username="outsider", password="x-very-long-pass"
    )
    client.force_login(outsider)
    assert client.get(reverse("web:home")).status_code == 403
    assert client.get(reverse("web:customer", args=[two_shops.a.customer.pk])).status_code == 403


def test_explicit_shop_cannot_cross_the_scope(two_shops):
    assert Customer.objects.for_shop(two_shops.a.shop).count() == 1
    with shop_scope(two_shops.b.shop), pytest.raises(NoShopInScope):
        Customer.objects.for_shop(two_shops.a.shop)
