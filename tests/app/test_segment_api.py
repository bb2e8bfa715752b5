"""The segments API: CRUD, live preview and members, why, history, roles, tenancy, and bad input
that always gets a clear 4xx JSON answer and writes nothing."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dangol.api.router import api
from dangol.segments.engine import context_for, customers_matching
from dangol.segments.models import Segment, SegmentMembership
from dangol.segments.rules import parse_rule
from dangol.segments.services import segment_builtins_install, segment_refresh
from dangol.shops.models import Role
from dangol.shops.services import membership_grant
from tests.app.factories import make_customer, make_purchases

BASE = "/api/v1/segments"
RULE = {"all": [{"condition": "visits", "op": "gte", "value": 2, "days": 30}]}


def _user(username: str, shop, role: str):
    user = get_user_model().objects.create_user(username=username, password="x-long-password-1")
    membership_grant(shop=shop, user=user, role=role)
    return user


@pytest.fixture
def world(two_shops):
    """Shop A with four customers (two came twice in the last 30 days), its built-in pack, a
    manager and a staff member; shop B with one owner-made segment."""
    a, b = two_shops.a, two_shops.b  # A's customer came 1, 8 and 40 days ago
    twice = make_customer(a.shop, name="이서연", phone="010-5555-6666")
    make_purchases(a.shop, a.store, a.product, twice, days_ago=[3, 5])
    once = make_customer(a.shop, name="최유진")
    make_purchases(a.shop, a.store, a.product, once, days_ago=[100])
    make_customer(a.shop, name="정하늘")
    segment_builtins_install(shop=a.shop)
    b_segment = Segment.objects.for_shop(b.shop).create(shop=b.shop, name="B 세그먼트", rule=RULE)
    return SimpleNamespace(
        a=a,
        b=b,
        members={a.customer.pk, twice.pk},
        manager=_user("manager-a", a.shop, Role.MANAGER),
        staff=_user("staff-a", a.shop, Role.STAFF),
        b_segment=b_segment,
        vip=Segment.objects.for_shop(a.shop).get(builtin_key="vip"),
    )


@pytest.fixture
def owner_client(client, world):
    client.force_login(world.a.owner)
    return client


def _post(client, url, data, **extra):
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(url, body, content_type="application/json", **extra)


def _put(client, url, data):
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.put(url, body, content_type="application/json")


def _create(client, **fields):
    data = {"name": "두 번 이상", "description": "최근 30일 2회 이상", "rule": RULE, **fields}
    response = _post(client, BASE, data)
    assert response.status_code == 201, response.content
    return response.json()


def _assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert " / " in body["message"]  # Korean / English
    assert re.search("[가-힣]", body["message"])
    if code is not None:
        assert body["code"] == code
    return body


def _segment_rows() -> int:
    return Segment.unscoped.count()


# ---------------------------------------------------------------- CRUD


def test_crud_round_trip(owner_client, world):
    created = _create(owner_client)
    assert created["rule"] == RULE
    assert created["name"] == "두 번 이상"
    assert created["builtin_key"] == "" and created["archived"] is False
    segment = Segment.objects.for_shop(world.a.shop).get(pk=created["id"])
    assert segment.rule == RULE
    assert segment.created_by == world.a.owner

    detail = owner_client.get(f"{BASE}/{created['id']}")
    assert detail.status_code == 200
    assert detail.json() == created

    new_rule = {"any": [{"not": {"condition": "visits", "op": "gte", "value": 1}}]}
    updated = _put(
        owner_client,
        f"{BASE}/{created['id']}",
        {"name": " 안 온 손님 ", "description": "", "rule": new_rule},
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["rule"] == new_rule
    assert updated.json()["name"] == "안 온 손님"
    assert Segment.objects.for_shop(world.a.shop).get(pk=created["id"]).rule == new_rule

    listed = owner_client.get(BASE).json()
    assert created["id"] in [s["id"] for s in listed["items"]]
    assert listed["count"] == Segment.objects.for_shop(world.a.shop).count()

    archived = owner_client.delete(f"{BASE}/{created['id']}")
    assert archived.status_code == 200
    assert archived.json()["archived"] is True
    assert created["id"] not in [s["id"] for s in owner_client.get(BASE).json()["items"]]
    only_archived = owner_client.get(BASE, {"archived": "true"}).json()
    assert [s["id"] for s in only_archived["items"]] == [created["id"]]
    assert Segment.objects.for_shop(world.a.shop).filter(pk=created["id"]).exists()


def test_manager_may_write(client, world):
    client.force_login(world.manager)
    created = _create(client, name="매니저가 만든")
    assert created["rule"] == RULE


def test_copy_is_an_editable_owner_segment(owner_client, world):
    response = owner_client.post(f"{BASE}/{world.vip.pk}/copy")
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != world.vip.pk
    assert copy["builtin_key"] == "" and copy["rule"] == world.vip.rule
    assert copy["name"].startswith(world.vip.name)
    changed = _put(owner_client, f"{BASE}/{copy['id']}", {"name": "내 VIP", "rule": RULE})
    assert changed.status_code == 200


def test_builtin_segments_cannot_change_or_be_archived(owner_client, world):
    before = Segment.objects.for_shop(world.a.shop).get(pk=world.vip.pk)
    body = _assert_error(
        _put(owner_client, f"{BASE}/{world.vip.pk}", {"name": "바꿈", "rule": RULE}),
        409,
        "builtin_segment",
    )
    assert "copy" in body["message"]
    _assert_error(owner_client.delete(f"{BASE}/{world.vip.pk}"), 409, "builtin_segment")
    after = Segment.objects.for_shop(world.a.shop).get(pk=world.vip.pk)
    assert (after.name, after.rule, after.archived) == (before.name, before.rule, False)


def test_list_shows_stored_counts_and_builtins(owner_client, world):
    segment_refresh(segment=world.vip)
    listed = owner_client.get(BASE, {"limit": 100}).json()
    vip = next(s for s in listed["items"] if s["id"] == world.vip.pk)
    assert vip["builtin_key"] == "vip"
    assert vip["member_count"] == 2 and vip["refreshed_at"]
    assert set(vip) >= {"id", "name", "description", "builtin_key", "archived", "rule"}


# ---------------------------------------------------------------- live evaluation


def test_preview_count_equals_members_and_engine(owner_client, world):
    preview = _post(owner_client, f"{BASE}/preview", {"rule": RULE})
    assert preview.status_code == 200, preview.content
    preview = preview.json()
    created = _create(owner_client)
    members = owner_client.get(f"{BASE}/{created['id']}/members").json()
    engine = customers_matching(parse_rule(RULE), context_for(shop=world.a.shop)).count()
    assert preview["count"] == members["count"] == engine == 2
    assert {c["id"] for c in preview["sample"]} == world.members
    assert {m["id"] for m in members["items"]} == world.members
    assert {c["name"] for c in preview["sample"]} == {"김민지", "이서연"}
    assert preview["warnings"] == []
    assert all(set(w) == {"ko", "en"} for w in preview["warnings"])


def test_preview_warns_about_a_missing_product(owner_client, world):
    own = {"condition": "bought", "products": [world.a.product.pk]}
    body = _post(owner_client, f"{BASE}/preview", {"rule": own}).json()
    assert body["count"] == 3 and body["warnings"] == []
    # A deleted product, or another shop's, matches no one and says so.
    for product_id in (987654, world.b.product.pk):
        rule = {"condition": "bought", "products": [product_id]}
        body = _post(owner_client, f"{BASE}/preview", {"rule": rule}).json()
        assert body["count"] == 0
        (warning,) = body["warnings"]
        assert "삭제된" in warning["ko"] and "deleted" in warning["en"]


def test_members_mask_phones_and_explain_why(owner_client, world):
    created = _create(owner_client)
    plain = owner_client.get(f"{BASE}/{created['id']}/members").json()
    by_id = {m["id"]: m for m in plain["items"]}
    assert by_id[world.a.customer.pk]["phone_masked"] == "010-****-2222"
    assert all(m["why"] is None for m in plain["items"])
    assert "01011112222" not in json.dumps(plain) and "1111" not in json.dumps(plain)

    why = owner_client.get(f"{BASE}/{created['id']}/members", {"why": "1"})
    assert why.status_code == 200, why.content
    items = why.json()["items"]
    assert why.json()["limit"] == 20
    for member in items:
        (reason,) = member["why"]
        assert reason["path"] == "all.0"
        assert reason["matched"] is True and reason["negated"] is False
        assert reason["value"] >= 2
        assert reason["ko"] and reason["en"]


def test_why_shows_every_kind_of_value(owner_client, world):
    """Numbers, text, yes/no and dates (and no value at all) all come back as JSON."""
    rule = {
        "any": [
            {"condition": "visits", "op": "gte", "value": 2, "days": 30},
            {"not": {"condition": "consent", "channel": "sms"}},
            {"condition": "birthday_month", "month": 0},
            {"condition": "home_store", "stores": [world.a.store.pk]},
            {"condition": "next_visit_within", "days": 7},
            {"condition": "status", "values": ["lapsed"]},
            {"condition": "spend", "op": "gte", "value": 1},
        ]
    }
    created = _create(owner_client, rule=rule)
    response = owner_client.get(f"{BASE}/{created['id']}/members", {"why": "true"})
    assert response.status_code == 200, response.content
    page = response.json()
    assert page["count"] == 4
    for member in page["items"]:
        reasons = member["why"]
        paths = [f"any.{i}" for i in range(7)]
        paths[1] = "any.1.not"
        assert [r["path"] for r in reasons] == paths
        assert reasons[1]["negated"] is True
        assert {r["value_kind"] for r in reasons} >= {"number", "text", "bool", "date"}
        assert any(r["matched"] != r["negated"] for r in reasons)  # why they are in


def test_history_lists_entries_and_exits(owner_client, world):
    segment_refresh(segment=world.vip)
    history = owner_client.get(f"{BASE}/{world.vip.pk}/history")
    assert history.status_code == 200
    rows = history.json()
    assert {r["customer"]["id"] for r in rows} == world.members
    assert all(r["entered_at"] and r["exited_at"] is None for r in rows)
    assert len(owner_client.get(f"{BASE}/{world.vip.pk}/history", {"limit": 1}).json()) == 1
    _assert_error(owner_client.get(f"{BASE}/{world.vip.pk}/history", {"limit": 0}), 422)
    _assert_error(owner_client.get(f"{BASE}/{world.vip.pk}/history", {"limit": 101}), 422)


def test_archiving_closes_open_memberships(owner_client, world):
    created = _create(owner_client)
    segment = Segment.objects.for_shop(world.a.shop).get(pk=created["id"])
    segment_refresh(segment=segment)
    assert owner_client.delete(f"{BASE}/{created['id']}").status_code == 200
    stays = SegmentMembership.objects.for_shop(world.a.shop).filter(segment=segment)
    assert stays.count() == 2 and not stays.filter(exited_at=None).exists()
    rows = owner_client.get(f"{BASE}/{created['id']}/history").json()
    assert all(r["exited_at"] for r in rows)


# ---------------------------------------------------------------- pagination


def test_pagination_walks_every_segment_once(owner_client, world):
    total = Segment.objects.for_shop(world.a.shop).filter(archived=False).count()
    seen = []
    for offset in range(0, total, 7):
        page = owner_client.get(BASE, {"limit": 7, "offset": offset}).json()
        assert page["count"] == total and page["limit"] == 7 and page["offset"] == offset
        assert len(page["items"]) <= 7
        seen += [s["id"] for s in page["items"]]
    assert len(seen) == len(set(seen)) == total
    assert owner_client.get(BASE).json()["limit"] == 50
    assert owner_client.get(BASE, {"offset": 1_000_000}).json()["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": -5},
        {"limit": "abc"},
        {"offset": -1},
        {"offset": 10**7},
        {"offset": 10**30},
        {"archived": "maybe"},
    ],
)
def test_list_pagination_bounds(owner_client, world, query):
    _assert_error(owner_client.get(BASE, query), 422, "invalid_input")


def test_members_pagination_and_why_cap(owner_client, world):
    created = _create(owner_client)
    url = f"{BASE}/{created['id']}/members"
    first = owner_client.get(url, {"limit": 1}).json()
    second = owner_client.get(url, {"limit": 1, "offset": 1}).json()
    assert first["count"] == second["count"] == 2
    assert {first["items"][0]["id"], second["items"][0]["id"]} == world.members
    assert owner_client.get(url, {"limit": 100}).status_code == 200
    assert owner_client.get(url, {"why": "1", "limit": 20}).status_code == 200
    capped = _assert_error(owner_client.get(url, {"why": "1", "limit": 21}), 422, "invalid_input")
    assert capped["details"]["errors"][0]["loc"] == ["query", "limit"]
    _assert_error(owner_client.get(url, {"limit": 101}), 422, "invalid_input")
    _assert_error(owner_client.get(url, {"offset": -1}), 422, "invalid_input")


# ---------------------------------------------------------------- invalid rules


def test_invalid_rule_lists_each_problem_with_its_path(owner_client, world):
    rule = {
        "all": [
            {"condition": "visits", "op": "bogus", "value": -1},
            {"not": {"condition": "no_such_condition"}},
            {"any": "nope"},
        ]
    }
    before = _segment_rows()
    body = _assert_error(
        _post(owner_client, BASE, {"name": "틀린 규칙", "rule": rule}), 422, "invalid_rule"
    )
    problems = body["details"]["problems"]
    assert {p["path"] for p in problems} == {
        "all.0.op",
        "all.0.value",
        "all.1.not.condition",
        "all.2.any",
    }
    for problem in problems:
        assert set(problem) == {"path", "message_ko", "message_en"}
        assert re.search("[가-힣]", problem["message_ko"]) and problem["message_en"]
    assert body["details"]["total"] == len(problems)
    assert _segment_rows() == before

    preview = _post(owner_client, f"{BASE}/preview", {"rule": rule})
    assert _assert_error(preview, 422, "invalid_rule")["details"] == body["details"]

    created = _create(owner_client)
    _assert_error(
        _put(owner_client, f"{BASE}/{created['id']}", {"name": "x", "rule": rule}),
        422,
        "invalid_rule",
    )
    assert Segment.objects.for_shop(world.a.shop).get(pk=created["id"]).rule == RULE


def test_name_problems_come_back_with_the_name_path(owner_client, world):
    for name in ["", "   ", "가" * 81]:
        body = _assert_error(
            _post(owner_client, BASE, {"name": name, "rule": RULE}), 422, "invalid_rule"
        )
        assert [p["path"] for p in body["details"]["problems"]] == ["name"]


# ---------------------------------------------------------------- roles and tenancy


def test_staff_may_read_but_not_write(client, world):
    client.force_login(world.staff)
    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}/{world.vip.pk}").status_code == 200
    assert client.get(f"{BASE}/{world.vip.pk}/members").status_code == 200
    assert client.get(f"{BASE}/{world.vip.pk}/history").status_code == 200
    assert _post(client, f"{BASE}/preview", {"rule": RULE}).status_code == 200
    before = _segment_rows()
    writes = [
        _post(client, BASE, {"name": "직원", "rule": RULE}),
        _put(client, f"{BASE}/{world.vip.pk}", {"name": "직원", "rule": RULE}),
        client.delete(f"{BASE}/{world.vip.pk}"),
        client.post(f"{BASE}/{world.vip.pk}/copy"),
    ]
    for response in writes:
        _assert_error(response, 403, "forbidden")
    assert _segment_rows() == before
    assert not Segment.objects.for_shop(world.a.shop).get(pk=world.vip.pk).archived


def _routes_with_an_id(segment_id: int) -> list[tuple[str, str]]:
    """Every segments route that takes an id (from the API's own schema), filled in."""
    routes = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        if path.startswith(BASE) and "{segment_id}" in path:
            for method in operations:
                routes.append((method, path.replace("{segment_id}", str(segment_id))))
    return routes


def _call(client, method: str, url: str):
    body = json.dumps({"name": "남의 것", "rule": RULE})
    if method in ("put", "post"):
        return getattr(client, method)(url, body, content_type="application/json")
    return getattr(client, method)(url)


def test_other_shops_segment_is_404_on_every_route(owner_client, world):
    routes = _routes_with_an_id(world.b_segment.pk)
    assert {m for m, _ in routes} == {"get", "put", "delete", "post"}
    assert len(routes) == 6
    for method, url in routes:
        _assert_error(_call(owner_client, method, url), 404, "not_found")
    b_segment = Segment.objects.for_shop(world.b.shop).get(pk=world.b_segment.pk)
    assert (b_segment.name, b_segment.archived) == ("B 세그먼트", False)
    assert Segment.objects.for_shop(world.a.shop).filter(name="남의 것").count() == 0
    listed = owner_client.get(BASE, {"limit": 100}).json()
    assert world.b_segment.pk not in {s["id"] for s in listed["items"]}


def test_other_shops_customers_never_appear(client, world):
    client.force_login(world.b.owner)
    preview = _post(client, f"{BASE}/preview", {"rule": RULE}).json()
    assert preview["count"] == 0  # B's only customer came once
    members = client.get(f"{BASE}/{world.b_segment.pk}/members").json()
    assert members["count"] == 0
    everyone = {"condition": "visits", "op": "gte", "value": 0}
    preview = _post(client, f"{BASE}/preview", {"rule": everyone}).json()
    assert [c["id"] for c in preview["sample"]] == [world.b.customer.pk]


def test_unknown_or_odd_ids(owner_client, world):
    _assert_error(owner_client.get(f"{BASE}/999999"), 404, "not_found")
    _assert_error(owner_client.get(f"{BASE}/{2**63 + 5}"), 404, "not_found")
    _assert_error(owner_client.get(f"{BASE}/abc"), 422, "invalid_input")


def test_login_required_on_every_route(client, world):
    routes = [("get", BASE), ("post", BASE), ("post", f"{BASE}/preview")]
    routes += _routes_with_an_id(world.vip.pk)
    before = _segment_rows()
    for method, url in routes:
        _assert_error(_call(client, method, url), 401, "unauthorized")
    assert _segment_rows() == before
    assert not Segment.objects.for_shop(world.a.shop).get(pk=world.vip.pk).archived


def test_login_without_a_shop_is_refused(client, world):
    outsider = get_user_model().objects.create_user(username="outsider", password="x-long-pw-1")
    client.force_login(outsider)
    before = _segment_rows()
    for method, url in [("get", BASE), ("post", BASE), *_routes_with_an_id(world.vip.pk)]:
        _assert_error(_call(client, method, url), 403, "forbidden")
    assert _segment_rows() == before


# ---------------------------------------------------------------- hostile input


def _nested(depth: int) -> dict:
    rule: dict = {"condition": "visits", "op": "gte", "value": 1}
    for i in range(depth):
        rule = {"not": rule} if i % 2 else {"all": [rule]}
    return rule


HOSTILE_BODIES = {
    "malformed_json": '{"name": "x", "rule": {',
    "trailing_garbage": '{"name": "x", "rule": {}} xyz',
    "not_utf8": b'{"name": "\xff\xfe", "rule": {}}',
    "empty_object": "{}",
    "array_body": json.dumps([{"name": "x", "rule": RULE}]),
    "string_body": json.dumps("name"),
    "null_body": "null",
    "rule_as_string": {"name": "x", "rule": json.dumps(RULE)},
    "rule_as_list": {"name": "x", "rule": [RULE]},
    "rule_missing": {"name": "x"},
    "rule_empty": {"name": "x", "rule": {}},
    "name_as_number": {"name": 12345, "rule": RULE},
    "name_as_list": {"name": ["x"], "rule": RULE},
    "name_null": {"name": None, "rule": RULE},
    "description_as_dict": {"name": "x", "description": {"a": 1}, "rule": RULE},
    "unknown_field": {"name": "x", "rule": RULE, "builtin_key": "vip"},
    "name_100k": {"name": "가" * 100_000, "rule": RULE},
    "depth_50": {"name": "x", "rule": _nested(50)},
    "json_depth_100k": '{"name": "x", "rule": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "conditions_10k": {
        "name": "x",
        "rule": {"any": [{"condition": "visits", "op": "gte", "value": i} for i in range(10_000)]},
    },
    "non_dicts_10k": {"name": "x", "rule": {"all": list(range(10_000))}},
    "script_condition": {"name": "x", "rule": {"condition": "<script>alert(1)</script>"}},
    "script_op": {"name": "x", "rule": {"condition": "visits", "op": "<script>", "value": 1}},
    "sql_condition": {"name": "x", "rule": {"condition": "visits'; DROP TABLE segments;--"}},
    "sql_value": {"name": "x", "rule": {"condition": "visits", "op": "gte", "value": "1 OR 1=1"}},
    "sql_group_key": {"name": "x", "rule": {"1=1; --": []}},
    "nul_in_name": {"name": "이름\x00", "rule": RULE},
    "nul_in_rule": {"name": "x", "rule": {"condition": "bought", "categories": ["커피\x00"]}},
    "nul_in_key": {"name": "x", "rule": {"all\x00": []}},
    "nan_value": '{"name": "x", "rule": {"condition": "visits", "op": "gte", "value": NaN}}',
    "huge_number": {"name": "x", "rule": {"condition": "visits", "op": "gte", "value": 10**400}},
    "float_days": {
        "name": "x",
        "rule": {"condition": "visits", "op": "gte", "value": 1, "days": 1e308},
    },
    "too_large": {"name": "x", "description": "가" * 200_000, "rule": RULE},
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_hostile_bodies_get_a_clear_4xx_and_write_nothing(owner_client, world, name):
    body = HOSTILE_BODIES[name]
    created = _create(owner_client, name="원래")
    target = f"{BASE}/{created['id']}"
    before = _segment_rows()
    for response in (
        _post(owner_client, BASE, body),
        _put(owner_client, target, body),
        _post(owner_client, f"{BASE}/preview", body),
    ):
        assert 400 <= response.status_code < 500, (name, response.status_code, response.content)
        error = _assert_error(response, response.status_code)
        assert error["code"] in {
            "malformed_json",
            "invalid_input",
            "invalid_rule",
            "invalid_characters",
            "body_too_large",
        }
        assert len(response.content) < 64_000
    assert _segment_rows() == before
    stored = Segment.objects.for_shop(world.a.shop).get(pk=created["id"])
    assert (stored.name, stored.rule) == ("원래", RULE)


def test_status_of_each_kind_of_bad_body(owner_client, world):
    def code(body):
        response = _post(owner_client, BASE, body)
        return response.status_code, response.json()["code"]

    assert code(HOSTILE_BODIES["malformed_json"]) == (400, "malformed_json")
    assert code(HOSTILE_BODIES["json_depth_100k"]) == (400, "malformed_json")
    assert code(HOSTILE_BODIES["array_body"]) == (400, "malformed_json")
    assert code(HOSTILE_BODIES["nul_in_rule"]) == (400, "invalid_characters")
    assert code(HOSTILE_BODIES["too_large"]) == (413, "body_too_large")
    assert code(HOSTILE_BODIES["rule_as_string"]) == (422, "invalid_input")
    assert code(HOSTILE_BODIES["name_as_number"]) == (422, "invalid_input")
    assert code(HOSTILE_BODIES["depth_50"]) == (422, "invalid_rule")
    assert code(HOSTILE_BODIES["script_condition"]) == (422, "invalid_rule")
    many = _post(owner_client, BASE, HOSTILE_BODIES["non_dicts_10k"]).json()["details"]
    # The engine stops listing after 50 problems, so a huge bad rule costs little to report.
    assert many["total"] == 50 and len(many["problems"]) == 50


def test_csrf_is_checked_for_logged_in_writes(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.a.owner)
    before = _segment_rows()
    _assert_error(_post(client, BASE, {"name": "x", "rule": RULE}), 403, "forbidden")
    assert _segment_rows() == before


def test_body_over_django_own_cap_is_413(owner_client, world):
    response = _post(owner_client, BASE, "x" * 3_000_000)
    _assert_error(response, 413, "body_too_large")


def test_odd_but_harmless_names_are_kept_verbatim(owner_client, world):
    """Markup and SQL-looking text are just text: stored as typed, returned as JSON data (the
    pages escape it), and the table is still there afterwards."""
    for name in ["<script>alert('x')</script>", "'; DROP TABLE segments_segment; --", "☕ 단골"]:
        created = _create(owner_client, name=name, description=name)
        assert created["name"] == name and created["description"] == name
        detail = owner_client.get(f"{BASE}/{created['id']}")
        assert detail["Content-Type"].startswith("application/json")
        assert detail.json()["name"] == name
    assert Segment.objects.for_shop(world.a.shop).filter(builtin_key="").count() == 3


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["all", "any", "not", "condition", "op", "value", "days", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
# Valid leaves, and valid leaves with one part replaced by garbage, so that both come up.
VALID_LEAF = st.sampled_from(
    [
        {"condition": "visits", "op": "gte", "value": 2, "days": 30},
        {"condition": "spend", "op": "lt", "value": 10_000},
        {"condition": "days_since_last_visit", "op": "gte", "value": 30},
        {"condition": "status", "values": ["lapsed"]},
        {"condition": "bought", "categories": ["커피"]},
    ]
)
LEAF = st.one_of(
    VALID_LEAF,
    st.builds(
        lambda leaf, key, junk: {**leaf, key: junk},
        VALID_LEAF,
        st.sampled_from(["condition", "op", "value", "days", "values", "categories", "x"]),
        JSON,
    ),
)
RULES = st.recursive(
    LEAF,
    lambda children: (
        st.builds(
            lambda op, items: {op: items},
            st.sampled_from(["all", "any"]),
            st.lists(children, max_size=3),
        )
        | st.builds(lambda child: {"not": child}, children)
    ),
    max_leaves=6,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rule=st.one_of(JSON, RULES, RULES))
def test_random_rules_never_give_a_500(owner_client, world, rule):
    before = _segment_rows()
    created = _post(owner_client, BASE, {"name": "무작위", "rule": rule})
    event(f"create answered {created.status_code}")
    assert created.status_code in (201, 400, 422), created.content
    assert created.json().get("code") in (
        None,
        "invalid_rule",
        "invalid_input",
        "malformed_json",
        "invalid_characters",
    )
    if created.status_code == 201:
        assert created.json()["rule"] == rule
        assert _segment_rows() == before + 1
        Segment.objects.for_shop(world.a.shop).filter(pk=created.json()["id"]).delete()
    else:
        assert _segment_rows() == before
    preview = _post(owner_client, f"{BASE}/preview", {"rule": rule})
    assert preview.status_code == (200 if created.status_code == 201 else created.status_code)
