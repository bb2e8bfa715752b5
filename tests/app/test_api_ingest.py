"""The POS API: store keys and scopes, purchases one by one and in batches (idempotent, a
status per item), refunds that take loyalty back, customers, consent, products, the counter
look-up (no more personal data than allowed), coupons, and bad input that always gets a clear
JSON error with a stable code."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from dangol.audit.models import AuditEvent
from dangol.customers.models import ConsentEvent, Customer
from dangol.loyalty.models import Coupon, CouponStatus, PointsEntry
from dangol.loyalty.points import PolicyInput, points_policy_create
from dangol.loyalty.selectors import points_summary, stamp_progress
from dangol.loyalty.services import (
    CouponTemplateInput,
    StampCardInput,
    coupon_issue,
    coupon_template_create,
    stamp_card_create,
)
from dangol.sales.models import Product, Purchase, PurchaseLine, PurchaseStatus
from dangol.shops.models import ApiKey, ApiScope
from dangol.shops.services import api_key_create, api_key_revoke

BASE = "/api/v1/pos"
ALL = list(ApiScope.values)


def _at(days_ago: int = 0) -> str:
    return (timezone.now() - dt.timedelta(days=days_ago)).isoformat()


def purchase(ext: str, *, amount: int = 10000, qty: int = 1, **extra) -> dict:
    return {
        "external_id": ext,
        "occurred_at": _at(),
        "lines": [{"name": "아메리카노", "quantity": qty, "unit_price": amount, "sku": "AME"}],
        **extra,
    }


class Pos:
    """A client that sends the key on every request."""

    def __init__(self, key: str):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {key}"}

    def post(self, path: str, body, **kw):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.client.post(
            BASE + path, data, content_type="application/json", headers=self.headers, **kw
        )

    def put(self, path: str, body):
        return self.client.put(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers
        )


@pytest.fixture
def w(two_shops, settings):
    settings.DANGOL_API_RATE_PER_SECOND = 10_000
    a, b = two_shops.a, two_shops.b
    points_policy_create(
        shop=a.shop,
        data=PolicyInput(earn_rate_bp=500),  # 5 %
        user=a.owner,
        now=timezone.now() - dt.timedelta(days=400),
    )
    reward = coupon_template_create(
        shop=a.shop,
        data=CouponTemplateInput(
            name="음료 1잔", kind="free_item", product_id=a.product.pk, valid_days=30
        ),
    )
    card = stamp_card_create(
        shop=a.shop,
        data=StampCardInput(
            name="커피 도장", stamps_required=10, mode="visit", reward_template_id=reward.pk
        ),
    )
    a_key, a_raw = api_key_create(shop=a.shop, store=a.store, name="POS 1", scopes=ALL)
    _, b_raw = api_key_create(shop=b.shop, store=b.store, name="B POS", scopes=ALL)
    return SimpleNamespace(
        a=a, b=b, card=card, reward=reward, a_key=a_key, pos=Pos(a_raw), b_pos=Pos(b_raw)
    )


def _unknown_code(code: str) -> str:
    from dangol.loyalty.codes import code_new

    while (other := code_new()) == code:
        pass
    return other


def _line(w, ext: str) -> PurchaseLine:
    return PurchaseLine.objects.for_shop(w.a.shop).get(purchase=_purchase(w, ext))


def _purchase(w, ext: str) -> Purchase:
    return Purchase.objects.for_shop(w.a.shop).get(external_id=ext)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code, body
    assert " / " in body["message"]
    return body


# ---------------------------------------------------------------- keys


def test_key_is_stored_hashed_and_shown_once(w):
    key = ApiKey.objects.for_shop(w.a.shop).get(pk=w.a_key.pk)
    raw = w.pos.headers["Authorization"].split()[1]
    assert raw.startswith("dgk_") and len(raw) > 40
    assert key.prefix == raw[:12]
    assert raw not in (key.key_hash, key.prefix) and len(key.key_hash) == 64
    assert ApiKey.objects.for_shop(w.a.shop).filter(key_hash__contains=raw[12:20]).count() == 0


def test_no_key_unknown_key_and_revoked_key_are_401(w):
    body = purchase("R-1")
    assert (
        Client().post(BASE + "/purchases", body, content_type="application/json").status_code == 401
    )
    _error(Pos("dgk_not-a-key").post("/purchases", body), 401, "invalid_api_key")
    _error(Pos("x" * 5000).post("/purchases", body), 401, "invalid_api_key")
    api_key_revoke(shop=w.a.shop, api_key=w.a_key)
    _error(w.pos.post("/purchases", body), 401, "invalid_api_key")
    assert not Purchase.objects.for_shop(w.a.shop).filter(external_id="R-1").exists()


def test_missing_scope_is_403(w):
    _, raw = api_key_create(
        shop=w.a.shop, store=w.a.store, name="읽기 전용", scopes=[ApiScope.CUSTOMERS_READ]
    )
    body = _error(Pos(raw).post("/purchases", purchase("S-1")), 403, "missing_scope")
    assert body["details"]["required_scope"] == "purchases:write"
    _error(
        Pos(raw).put("/products", {"items": [{"sku": "X", "name": "x", "price": 1}]}),
        403,
        "missing_scope",
    )
    _error(Pos(raw).post("/coupons/redeem", {"code": "ABCD"}), 403, "missing_scope")
    assert not Purchase.objects.for_shop(w.a.shop).filter(external_id="S-1").exists()


def test_session_login_does_not_open_pos_routes(w):
    client = Client()
    client.force_login(w.a.owner)
    response = client.post(BASE + "/purchases", purchase("L-1"), content_type="application/json")
    assert response.status_code == 401


def test_last_use_is_recorded(w):
    assert w.a_key.last_used_at is None
    w.pos.post("/purchases", purchase("U-1"))
    w.a_key.refresh_from_db()
    assert w.a_key.last_used_at is not None


def test_rate_limit_per_key(w, settings):
    settings.DANGOL_API_RATE_PER_SECOND = 3
    codes = [
        w.pos.post("/customers/lookup", {"phone": "010-1111-2222"}).status_code for _ in range(8)
    ]
    assert 429 in codes and codes[0] == 200
    refused = w.pos.post("/customers/lookup", {"phone": "010-1111-2222"})
    body = _error(refused, 429, "too_many_requests")
    assert refused["Retry-After"] == "1" and body["details"]["retry_after_seconds"] == 1
    # Another key keeps its own allowance.
    assert w.b_pos.post("/customers/lookup", {"phone": "010-3333-4444"}).status_code == 200


# ---------------------------------------------------------------- purchases


def test_single_purchase_created_then_duplicate(w):
    response = w.pos.post(
        "/purchases", purchase("P-1", customer_phone="010-1111-2222", discount=500)
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "created"
    assert body["purchase"]["total"] == 9500
    assert body["purchase"]["customer_id"] == w.a.customer.pk
    p = _purchase(w, "P-1")
    assert p.store_id == w.a.store.pk and p.source == "pos"
    assert _line(w, "P-1").product_id == w.a.product.pk  # linked by SKU
    # Loyalty earned in the same request: 5 % points and a stamp.
    assert (
        PointsEntry.objects.for_shop(w.a.shop).filter(purchase=p, kind="earn").get().points == 475
    )
    assert stamp_progress(shop=w.a.shop, customer=w.a.customer)[0].stamps == 1
    again = w.pos.post("/purchases", purchase("P-1", amount=99999))
    assert again.status_code == 200
    assert again.json() == {**body, "status": "duplicate"}
    assert Purchase.objects.for_shop(w.a.shop).filter(external_id="P-1").count() == 1
    assert PointsEntry.objects.for_shop(w.a.shop).filter(purchase=p).count() == 1


def test_purchase_for_a_new_phone_needs_a_name(w):
    _error(
        w.pos.post("/purchases", purchase("N-1", customer_phone="010-7777-8888")),
        422,
        "unknown_customer",
    )
    response = w.pos.post(
        "/purchases", purchase("N-1", customer_phone="010-7777-8888", customer_name="정하늘")
    )
    assert response.status_code == 201
    customer = Customer.objects.for_shop(w.a.shop).get(
        pk=response.json()["purchase"]["customer_id"]
    )
    assert customer.name == "정하늘" and customer.created_via == "api"
    # No consent is implied by a purchase.
    assert not ConsentEvent.objects.for_shop(w.a.shop).filter(customer=customer).exists()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"external_id": None}, "external_id"),
        ({"lines": []}, "lines"),
        ({"lines": "커피"}, "lines"),
        ({"occurred_at": "어제"}, "occurred_at"),
        ({"occurred_at": "2025-08-11T10:06:00"}, "occurred_at"),  # no time zone
        ({"discount": -1}, "discount"),
        ({"discount": 20000}, ""),  # more than the lines
        ({"total": 1}, ""),  # does not add up
        ({"lines": [{"name": "x", "quantity": 1, "unit_price": -100}]}, "unit_price"),
        ({"lines": [{"name": "x", "quantity": 0, "unit_price": 100}]}, "quantity"),
        ({"lines": [{"name": "x", "quantity": 10000, "unit_price": 10**9}]}, ""),
        ({"lines": [{"name": "x", "quantity": "many", "unit_price": 100}]}, "quantity"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"customer_phone": "not a phone"}, "customer_phone"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_purchases_are_refused_with_a_code(w, change, where):
    body = {**purchase("B-1"), **change}
    if change.get("external_id", "") is None:
        del body["external_id"]
    response = w.pos.post("/purchases", body)
    assert response.status_code == 422, response.content
    data = response.json()
    assert data["code"] in {"invalid_input", "invalid_phone"}
    assert where in json.dumps(data["details"])
    assert (
        not Purchase.objects.for_shop(w.a.shop)
        .filter(source="pos", external_id__startswith="B-")
        .exists()
    )


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[]", b'{"a": NaN}', b'{"external_id": "\\u0000"}', b"\xff\xfe", b'{"n": 1e999}'],
)
def test_malformed_bodies(w, raw):
    response = w.pos.post("/purchases", raw)
    assert response.status_code == 400
    assert response.json()["code"] in {"malformed_json", "invalid_characters"}


def test_hostile_strings_are_stored_as_text(w):
    hostile = [
        '=HYPERLINK("http://x")',
        "'; DROP TABLE sales_purchase; --",
        "<script>x</script>",
        "😀" * 30,
    ]
    for n, text in enumerate(hostile):
        body = purchase(f"H-{n}-{text[:20]}")
        body["lines"][0]["name"] = text
        assert w.pos.post("/purchases", body).status_code == 201
        assert _line(w, body["external_id"]).name == text
    lone = (
        b'{"external_id": "\\ud800", "occurred_at": "2025-08-11T10:06:00+09:00", '
        b'"lines": [{"name": "a", "unit_price": 1}]}'
    )
    _error(w.pos.post("/purchases", lone), 422, "invalid_input")


def test_huge_body_is_413(w):
    body = purchase("BIG-1")
    body["lines"][0]["name"] = "가" * 300_000
    _error(w.pos.post("/purchases", body), 413, "body_too_large")
    # The batch route takes more (2 MB) but not without end.
    huge = {"items": [purchase(f"X-{i}") | {"pad": "x" * 3000} for i in range(1000)]}
    _error(w.pos.post("/purchases/batch", huge), 413, "body_too_large")


# ---------------------------------------------------------------- batches


def test_batch_statuses_per_item(w):
    w.pos.post("/purchases", purchase("D-0"))
    items = [
        purchase("D-1", customer_phone="010-1111-2222"),
        purchase("D-0"),  # sent before
        {**purchase("D-2"), "discount": -5},  # bad
        purchase("D-1"),  # twice in this batch
        {"external_id": "D-3"},  # missing fields
        "not an object",
        purchase("D-4", customer_phone="010-9999-0000"),  # unknown, no name
        purchase("D-5"),
    ]
    response = w.pos.post("/purchases/batch", {"items": items})
    assert response.status_code == 200, response.content
    body = response.json()
    statuses = [(i["status"], (i["error"] or {}).get("code")) for i in body["items"]]
    assert statuses == [
        ("created", None),
        ("duplicate", None),
        ("error", "invalid_input"),
        ("error", "duplicate_in_batch"),
        ("error", "invalid_input"),
        ("error", "invalid_input"),
        ("error", "unknown_customer"),
        ("created", None),
    ]
    assert body["items"][2]["error"]["field"] == "discount"
    assert body["items"][6]["error"]["field"] == "customer_phone"
    assert (body["created"], body["duplicates"], body["errors"]) == (2, 1, 5)
    assert set(
        Purchase.objects.for_shop(w.a.shop)
        .filter(external_id__startswith="D-")
        .values_list("external_id", flat=True)
    ) == {"D-0", "D-1", "D-5"}
    assert PointsEntry.objects.for_shop(w.a.shop).filter(purchase=_purchase(w, "D-1")).exists()


def test_batch_of_1000_and_1001(w):
    items = [purchase(f"K-{i}", amount=1000 + i) for i in range(1000)]
    response = w.pos.post("/purchases/batch", {"items": items})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1000
    replay = w.pos.post("/purchases/batch", {"items": items}).json()
    assert (replay["created"], replay["duplicates"]) == (0, 1000)
    too_many = w.pos.post("/purchases/batch", {"items": [*items, purchase("K-1000")]})
    body = _error(too_many, 422, "invalid_input")
    assert "items" in json.dumps(body["details"])
    assert not Purchase.objects.for_shop(w.a.shop).filter(external_id="K-1000").exists()


def test_batch_keeps_good_items_when_one_fails_in_the_database(w, monkeypatch):
    """The slow path: an item that fails only when written does not sink the others."""
    from dangol.api import ingest_services

    real = ingest_services.purchase_bulk_create

    def flaky(*, shop, rows):
        if any(r.external_id == "F-2" for r in rows):
            raise ingest_services.SaleError("2: 잘못된 행 / Row 2: refused.")
        return real(shop=shop, rows=rows)

    monkeypatch.setattr(ingest_services, "purchase_bulk_create", flaky)
    body = w.pos.post(
        "/purchases/batch", {"items": [purchase("F-1"), purchase("F-2"), purchase("F-3")]}
    ).json()
    assert [i["status"] for i in body["items"]] == ["created", "error", "created"]
    assert body["items"][1]["error"]["code"] == "invalid_purchase"


def test_other_stores_external_id_is_a_conflict_not_a_duplicate(w):
    from dangol.shops.services import store_create

    second = store_create(shop=w.a.shop, code="gangnam", name="강남점")
    _, raw = api_key_create(shop=w.a.shop, store=second, name="강남 POS", scopes=ALL)
    assert w.pos.post("/purchases", purchase("C-1")).status_code == 201
    _error(Pos(raw).post("/purchases", purchase("C-1")), 409, "external_id_conflict")
    # A refund from the other store does not reach the first store's purchase.
    _error(
        Pos(raw).post("/refunds", {"external_id": "C-1", "kind": "refund"}),
        404,
        "purchase_not_found",
    )


def test_foreign_shop_key_sees_nothing_of_this_shop(w):
    w.pos.post("/purchases", purchase("T-1", customer_phone="010-1111-2222"))
    _error(
        w.b_pos.post("/refunds", {"external_id": "T-1", "kind": "refund"}),
        404,
        "purchase_not_found",
    )
    _error(w.b_pos.post("/customers/lookup", {"phone": "010-1111-2222"}), 404, "customer_not_found")
    _error(
        w.b_pos.post(
            "/consents",
            {"phone": "010-1111-2222", "kind": "ad_sms", "granted": True, "evidence": "x"},
        ),
        404,
        "customer_not_found",
    )
    # The same external id in shop B is B's own purchase, not a duplicate of A's.
    assert w.b_pos.post("/purchases", purchase("T-1")).json()["status"] == "created"
    assert _purchase(w, "T-1").status == PurchaseStatus.PAID


# ---------------------------------------------------------------- refunds


def test_full_refund_reverses_points_and_stamps(w):
    w.pos.post("/purchases", purchase("RF-1", customer_phone="010-1111-2222"))
    before = points_summary(shop=w.a.shop, customer=w.a.customer).balance
    response = w.pos.post("/refunds", {"external_id": "RF-1", "kind": "refund"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["purchase"]["status"] == "refunded"
    assert body["points_reversed"] == 500 and body["stamps_reversed"] == 1
    assert points_summary(shop=w.a.shop, customer=w.a.customer).balance == before - 500
    assert stamp_progress(shop=w.a.shop, customer=w.a.customer)[0].stamps == 0
    again = w.pos.post("/refunds", {"external_id": "RF-1", "kind": "refund"}).json()
    assert (again["points_reversed"], again["stamps_reversed"]) == (0, 0)
    assert points_summary(shop=w.a.shop, customer=w.a.customer).balance == before - 500
    _error(w.pos.post("/refunds", {"external_id": "RF-1", "kind": "cancel"}), 409, "already_final")


def test_partial_refund_takes_back_the_share(w):
    w.pos.post("/purchases", purchase("PR-1", customer_phone="010-1111-2222"))
    r1 = w.pos.post(
        "/refunds", {"external_id": "PR-1", "kind": "partial_refund", "refunded_total": 4000}
    ).json()
    assert r1["purchase"]["status"] == "partially_refunded" and r1["points_reversed"] == 200
    same = w.pos.post(
        "/refunds", {"external_id": "PR-1", "kind": "partial_refund", "refunded_total": 4000}
    ).json()
    assert same["points_reversed"] == 0  # repeat-safe
    rest = w.pos.post(
        "/refunds", {"external_id": "PR-1", "kind": "partial_refund", "refunded_total": 10000}
    ).json()
    assert rest["purchase"]["status"] == "refunded" and rest["points_reversed"] == 300
    assert rest["stamps_reversed"] == 1


def test_cancel_and_bad_refunds(w):
    w.pos.post("/purchases", purchase("CA-1", customer_phone="010-1111-2222"))
    _error(
        w.pos.post("/refunds", {"external_id": "CA-1", "kind": "partial_refund"}),
        422,
        "invalid_input",
    )
    _error(
        w.pos.post("/refunds", {"external_id": "CA-1", "kind": "refund", "refunded_total": 5}),
        422,
        "invalid_input",
    )
    _error(
        w.pos.post(
            "/refunds", {"external_id": "CA-1", "kind": "partial_refund", "refunded_total": 10001}
        ),
        422,
        "invalid_refund",
    )
    _error(w.pos.post("/refunds", {"external_id": "CA-1", "kind": "explode"}), 422, "invalid_input")
    _error(
        w.pos.post("/refunds", {"external_id": "nope", "kind": "refund"}), 404, "purchase_not_found"
    )
    body = w.pos.post("/refunds", {"external_id": "CA-1", "kind": "cancel"}).json()
    assert body["purchase"]["status"] == "cancelled" and body["points_reversed"] == 500


# ---------------------------------------------------------------- customers, consent, products


def test_customer_upsert_by_phone(w):
    response = w.pos.put("/customers", {"phone": "010 2468 1357", "name": "한지민"})
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "status": "created",
        "customer": {
            "id": body["customer"]["id"],
            "name_initial": "한",
            "phone_masked": "010-****-1357",
        },
        "attached": [],
    }
    customer = Customer.objects.for_shop(w.a.shop).get(pk=body["customer"]["id"])
    assert customer.home_store_id == w.a.store.pk and customer.phone == "+821024681357"
    again = w.pos.put("/customers", {"phone": "+82 10-2468-1357", "name": "다른 이름"})
    assert again.status_code == 200 and again.json()["status"] == "existing"
    customer.refresh_from_db()
    assert customer.name == "한지민"
    _error(w.pos.put("/customers", {"phone": "12", "name": "x"}), 422, "invalid_phone")
    _error(w.pos.put("/customers", {"phone": "010-2222-3333"}), 422, "invalid_input")


def test_customer_upsert_by_email_of_a_customer_known_by_phone_attaches_it(w):
    known = w.pos.put("/customers", {"phone": "010-2468-1357", "name": "한지민"}).json()
    response = w.pos.put(
        "/customers", {"phone": "010-2468-1357", "name": "한지민", "email": "JiMin@Example.com"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "existing" and body["attached"] == ["email"]
    assert body["customer"]["id"] == known["customer"]["id"]
    # The e-mail alone (no phone) now finds the same customer; nothing is created.
    count = Customer.objects.for_shop(w.a.shop).count()
    again = w.pos.put("/customers", {"name": "아무개", "email": "jimin@example.com"})
    assert again.status_code == 200 and again.json()["attached"] == []
    assert again.json()["customer"]["id"] == known["customer"]["id"]
    assert Customer.objects.for_shop(w.a.shop).count() == count
    # Unknown identities without a phone cannot create anybody.
    _error(
        w.pos.put("/customers", {"name": "x", "email": "new@example.com"}), 422, "phone_required"
    )
    _error(w.pos.put("/customers", {"name": "x"}), 422, "invalid_input")


def test_customer_upsert_card_token_seen_before_resolves_to_its_customer(w):
    minji = w.a.customer
    first = w.pos.put(
        "/customers",
        {"phone": "010-1111-2222", "name": "김민지", "card_token": "tok_9f8e", "member_no": "M-7"},
    ).json()
    assert first["customer"]["id"] == minji.pk
    assert sorted(first["attached"]) == ["card_token", "member_no"]
    for identity in ({"card_token": "tok_9f8e"}, {"member_no": " M-7 "}):
        body = w.pos.put("/customers", {"name": "?", **identity}).json()
        assert body["status"] == "existing" and body["customer"]["id"] == minji.pk
    # Another shop does not know the token.
    _error(
        w.b_pos.put("/customers", {"name": "?", "card_token": "tok_9f8e"}), 422, "phone_required"
    )


def test_customer_upsert_identities_of_two_customers_is_a_conflict_never_a_merge(w):
    w.pos.put("/customers", {"phone": "010-1111-2222", "name": "김민지", "card_token": "T-A"})
    other = w.pos.put("/customers", {"phone": "010-5555-6666", "name": "이서연"}).json()
    count = Customer.objects.for_shop(w.a.shop).count()
    body = _error(
        w.pos.put(
            "/customers",
            {"phone": "010-5555-6666", "name": "이서연", "card_token": "T-A", "member_no": "M-9"},
        ),
        409,
        "identity_conflict",
    )
    assert body["details"]["customer_ids"] == sorted([w.a.customer.pk, other["customer"]["id"]])
    # Nothing was attached or merged: the new member number belongs to nobody.
    assert Customer.objects.for_shop(w.a.shop).count() == count
    assert Customer.objects.for_shop(w.a.shop).get(pk=other["customer"]["id"]).merged_into is None
    _error(w.pos.put("/customers", {"name": "?", "member_no": "M-9"}), 422, "phone_required")
    # Also without a phone: the e-mail is the first customer's, the token the second's.
    w.pos.put("/customers", {"phone": "010-5555-6666", "name": "이서연", "card_token": "T-B"})
    _error(
        w.pos.put("/customers", {"name": "?", "email": "minji@example.com", "card_token": "T-B"}),
        409,
        "identity_conflict",
    )


def test_purchase_by_card_token_finds_the_customer_and_attaches_new_tokens(w):
    minji = w.a.customer
    # First seen with the phone: the token is attached to the phone's customer.
    first = w.pos.post(
        "/purchases", purchase("CT-1", customer_phone="010-1111-2222", customer_card_token="tok1")
    )
    assert first.status_code == 201 and first.json()["purchase"]["customer_id"] == minji.pk
    # Later the card alone finds her.
    second = w.pos.post("/purchases", purchase("CT-2", customer_card_token="tok1"))
    assert second.status_code == 201 and second.json()["purchase"]["customer_id"] == minji.pk
    # An unknown card alone cannot name anybody; with a new phone and name it creates one.
    _error(
        w.pos.post("/purchases", purchase("CT-3", customer_card_token="tok2")),
        422,
        "unknown_customer",
    )
    made = w.pos.post(
        "/purchases",
        purchase(
            "CT-4",
            customer_phone="010-7777-1234",
            customer_name="정하늘",
            customer_member_no="M-1",
        ),
    ).json()["purchase"]["customer_id"]
    assert made not in (None, minji.pk)
    by_member = w.pos.post("/purchases", purchase("CT-5", customer_member_no="M-1")).json()
    assert by_member["purchase"]["customer_id"] == made
    # In a batch, a new phone that an earlier item attaches to the card's customer is hers
    # in the later items too, not a new customer.
    batch = w.pos.post(
        "/purchases/batch",
        {
            "items": [
                purchase("CT-6", customer_phone="010-8888-1212", customer_card_token="tok1"),
                purchase("CT-7", customer_phone="010-8888-1212", customer_name="김민지"),
            ]
        },
    ).json()
    assert batch["created"] == 2
    ids = {i["purchase_id"] for i in batch["items"]}
    owners = set(
        Purchase.objects.for_shop(w.a.shop).filter(pk__in=ids).values_list("customer_id", flat=True)
    )
    assert owners == {minji.pk}


def test_purchase_with_identities_of_two_customers_is_a_conflict(w):
    w.pos.post(
        "/purchases", purchase("CF-1", customer_phone="010-1111-2222", customer_card_token="tok1")
    )
    w.pos.put("/customers", {"phone": "010-5555-6666", "name": "이서연"})
    body = _error(
        w.pos.post(
            "/purchases",
            purchase("CF-2", customer_phone="010-5555-6666", customer_card_token="tok1"),
        ),
        409,
        "identity_conflict",
    )
    assert len(body["details"]["customer_ids"]) == 2
    assert not Purchase.objects.for_shop(w.a.shop).filter(external_id="CF-2").exists()
    # In a batch: that item alone is refused, with the same code; a new card attached by one
    # item and claimed for another customer by a later item is refused too.
    batch = w.pos.post(
        "/purchases/batch",
        {
            "items": [
                purchase("CF-3", customer_phone="010-5555-6666", customer_card_token="tok1"),
                purchase("CF-4", customer_phone="010-5555-6666", customer_card_token="tok3"),
                purchase("CF-5", customer_phone="010-1111-2222", customer_card_token="tok3"),
                purchase("CF-6", customer_card_token="tok3"),
            ]
        },
    ).json()
    assert [(i["status"], (i["error"] or {}).get("code")) for i in batch["items"]] == [
        ("error", "identity_conflict"),
        ("created", None),
        ("error", "identity_conflict"),
        ("created", None),
    ]


def test_consent_events_are_appended_with_evidence(w):
    response = w.pos.post(
        "/consents",
        {"phone": "010-1111-2222", "kind": "ad_sms", "granted": True, "evidence": "서명패드 v3"},
    )
    assert response.status_code == 201, response.content
    event = ConsentEvent.objects.for_shop(w.a.shop).get(pk=response.json()["id"])
    assert (event.source, event.granted, event.customer_id) == ("api", True, w.a.customer.pk)
    assert "서명패드 v3" in event.evidence and w.a_key.prefix in event.evidence
    w.pos.post(
        "/consents",
        {"phone": "010-1111-2222", "kind": "ad_sms", "granted": False, "evidence": "문자 거부"},
    )
    assert ConsentEvent.objects.for_shop(w.a.shop).filter(customer=w.a.customer).count() == 2
    _error(
        w.pos.post("/consents", {"phone": "010-1111-2222", "kind": "ad_sms", "granted": True}),
        422,
        "invalid_input",
    )
    _error(
        w.pos.post(
            "/consents",
            {"phone": "010-1111-2222", "kind": "mind_reading", "granted": True, "evidence": "x"},
        ),
        422,
        "invalid_input",
    )


def test_products_upsert_by_sku(w):
    body = {
        "items": [
            {"sku": "AME", "name": "아메리카노", "price": 4800},
            {"sku": "LAT", "name": "라떼", "price": 5200, "category": "커피"},
        ]
    }
    response = w.pos.put("/products", body)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1 and response.json()["updated"] == 1
    assert Product.objects.for_shop(w.a.shop).get(sku="AME").price == 4800
    assert Product.objects.for_shop(w.b.shop).get(sku="AME").price == 4500  # B's untouched
    dup = {"items": [{"sku": "Z", "name": "z", "price": 1}, {"sku": "Z", "name": "z", "price": 2}]}
    _error(w.pos.put("/products", dup), 422, "invalid_products")
    _error(
        w.pos.put("/products", {"items": [{"sku": "N", "name": "n", "price": -1}]}),
        422,
        "invalid_input",
    )
    assert not Product.objects.for_shop(w.a.shop).filter(sku__in=["Z", "N"]).exists()


# ---------------------------------------------------------------- look-up and coupons


def test_lookup_shows_loyalty_and_no_more_personal_data(w):
    w.pos.post("/purchases", purchase("LK-1", customer_phone="010-1111-2222"))
    coupon = coupon_issue(shop=w.a.shop, template=w.reward, customer=w.a.customer)
    response = w.pos.post("/customers/lookup", {"phone": "01011112222"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "customer_id",
        "name_initial",
        "phone_masked",
        "points",
        "stamps",
        "coupons",
    }
    assert body["name_initial"] == "김" and body["phone_masked"] == "010-****-2222"
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("김민지", "민지", "1111", "minji", "example.com"):
        assert secret not in text
    assert body["points"]["balance"] == points_summary(shop=w.a.shop, customer=w.a.customer).balance
    assert body["stamps"] == [
        {"card_id": w.card.pk, "card_name": "커피 도장", "stamps": 1, "stamps_required": 10}
    ]
    assert [c["code"] for c in body["coupons"]] == [coupon.code]
    audit = AuditEvent.objects.for_shop(w.a.shop).filter(object_type="customer_counter").get()
    assert audit.customer_id == w.a.customer.pk and w.a_key.prefix in audit.reason
    _error(w.pos.post("/customers/lookup", {"phone": "010-0000-0001"}), 404, "customer_not_found")
    _error(w.pos.post("/customers/lookup", {"phone": "abc"}), 422, "invalid_phone")


def test_coupon_redemption_and_its_refusals(w):
    coupon = coupon_issue(shop=w.a.shop, template=w.reward, customer=w.a.customer)
    response = w.pos.post("/coupons/redeem", {"code": coupon.code})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "redeemed"
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.REDEEMED and coupon.redeemed_store_id == w.a.store.pk
    _error(w.pos.post("/coupons/redeem", {"code": coupon.code}), 409, "already_redeemed")
    _error(w.pos.post("/coupons/redeem", {"code": _unknown_code(coupon.code)}), 404, "unknown_code")
    b_coupon = coupon_issue(
        shop=w.b.shop,
        template=coupon_template_create(
            shop=w.b.shop,
            data=CouponTemplateInput(name="B", kind="free_item", product_id=w.b.product.pk),
        ),
        customer=w.b.customer,
    )
    _error(w.pos.post("/coupons/redeem", {"code": b_coupon.code}), 404, "foreign_shop")
    assert Coupon.objects.for_shop(w.b.shop).get(pk=b_coupon.pk).status == CouponStatus.ISSUED
    _error(w.pos.post("/coupons/redeem", {"code": "!"}), 422, "malformed_code")
    _error(
        w.pos.post("/coupons/redeem", {"code": coupon.code, "purchase_external_id": "none"}),
        404,
        "purchase_not_found",
    )


def test_openapi_lists_the_pos_routes_with_examples(w):
    doc = Client().get("/api/openapi.json").json()
    paths = [p for p in doc["paths"] if p.startswith(BASE)]
    assert len(paths) == 8
    assert doc["components"]["schemas"]["PurchaseIn"]["examples"]
    batch = doc["components"]["schemas"]["BatchIn"]["properties"]["items"]
    assert batch["items"]["title"] == "PurchaseIn" and batch["maxItems"] == 1000
    assert "external_id" in batch["items"]["required"]
