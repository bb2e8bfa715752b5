"""Owner pages for segments: the list with counts, the form builder (never JSON), the live
preview, the segment page with members and "why", the audited CSV export, roles and tenancy."""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dangol.audit.models import AuditEvent
from dangol.core.tenancy import shop_scope
from dangol.segments.models import Segment
from dangol.segments.selectors import segment_preview
from dangol.segments.services import segment_builtins_install, segment_create
from dangol.shops.models import Role
from dangol.shops.services import membership_grant
from tests.app.factories import make_customer, make_purchases, make_shop

VISITS_2_IN_30 = {"all": [{"condition": "visits", "op": "gte", "value": 2, "days": 30}]}


@pytest.fixture
def shop(db):
    shop, store, owner, product = make_shop("segs")
    regulars = []
    for i in range(3):
        c = make_customer(shop, name=f"단골{i}", phone=f"010-5555-{1000 + i}")
        make_purchases(shop, store, product, c, days_ago=[1, 5, 10])
        regulars.append(c)
    once = []
    for i in range(2):
        c = make_customer(shop, name=f"한번{i}")
        make_purchases(shop, store, product, c, days_ago=[3])
        once.append(c)
    old = make_customer(shop, name="옛손님")
    make_purchases(shop, store, product, old, days_ago=[100, 110])
    staff = get_user_model().objects.create_user(username="staff-segs", password="x-long-pass-1")
    membership_grant(shop=shop, user=staff, role=Role.STAFF)
    return SimpleNamespace(
        shop=shop,
        store=store,
        owner=owner,
        staff=staff,
        product=product,
        regulars=regulars,
        once=once,
        old=old,
    )


def _own_segment(shop, rule=None, name="두 번 이상"):
    with shop_scope(shop):
        return segment_create(shop=shop, name=name, rule=rule or VISITS_2_IN_30)


def _segments(shop):
    return list(Segment.objects.for_shop(shop).filter(builtin_key="").order_by("pk"))


def _form(**extra):
    """The builder's POST as a browser sends it: one row, visits ≥ 2 in 30 days."""
    data = {
        "name": "최근 단골",
        "description": "한 달에 두 번 이상",
        "match": "all",
        "op": "save",
        "c-0-condition": "visits",
        "c-0-was": "visits",
        "c-0-op": "gte",
        "c-0-value": "2",
        "c-0-days": "30",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


# ── list ───────────────────────────────────────────────────────────────────────────────────


def test_list_installs_builtins_but_counts_only_on_post(client, shop):
    client.force_login(shop.owner)
    body = client.get(reverse("web:segments")).content.decode()
    assert "VIP" in body and "휴면" in body and "지금 계산하기" in body
    with shop_scope(shop.shop):
        vip = Segment.objects.for_shop(shop.shop).get(builtin_key="vip")
    assert vip.refreshed_at is None  # the GET did not count anything
    response = client.post(reverse("web:segments_refresh"))
    assert response.status_code == 302
    vip.refresh_from_db()
    assert vip.member_count == 3 and vip.refreshed_at is not None
    body = client.get(reverse("web:segments")).content.decode()
    item = re.search(rf'data-segment="{vip.pk}">(.*?)</li>', body, re.S).group(1)
    assert "3명" in item
    assert "세그먼트" in body and "지난 30일" in body


def test_list_shows_own_segments_and_counts(client, shop):
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    client.post(reverse("web:segments_refresh"))
    body = client.get(reverse("web:segments")).content.decode()
    item = re.search(rf'data-segment="{segment.pk}">(.*?)</li>', body, re.S).group(1)
    assert "두 번 이상" in item and "3명" in item


def test_list_and_segment_pages_have_bounded_queries(client, shop, django_assert_max_num_queries):
    segment = _own_segment(shop.shop)
    with shop_scope(shop.shop):
        segment_builtins_install(shop=shop.shop)
    client.force_login(shop.owner)
    client.post(reverse("web:segments_refresh"))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("web:segments")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("web:segment", args=[segment.pk])).status_code == 200


# ── builder ────────────────────────────────────────────────────────────────────────────────


def test_builder_page_has_a_grouped_condition_picker(client, shop):
    client.force_login(shop.owner)
    body = client.get(reverse("web:segment_new")).content.decode()
    assert "모두 만족" in body and "하나라도 만족" in body and "제외" in body
    assert '<optgroup label="방문">' in body and "방문 횟수" in body
    assert "csrfmiddlewaretoken" in body


def test_builder_creates_a_segment_with_the_right_rule(client, shop):
    client.force_login(shop.owner)
    response = client.post(reverse("web:segment_new"), _form())
    assert response.status_code == 302
    (segment,) = _segments(shop.shop)
    assert segment.name == "최근 단골" and segment.description == "한 달에 두 번 이상"
    assert segment.rule == VISITS_2_IN_30
    assert response["Location"] == reverse("web:segment", args=[segment.pk])
    page = client.get(response["Location"]).content.decode()
    assert "최근 30일 방문 2회 이상" in page and 'data-member-count="3"' in page


def test_builder_any_and_not_rows(client, shop):
    client.force_login(shop.owner)
    data = _form(match="any")
    data.update(
        {
            "c-1-condition": "days_since_last_visit",
            "c-1-was": "days_since_last_visit",
            "c-1-op": "gte",
            "c-1-value": "60",
            "c-1-not": "on",
            "c-2-condition": "status",
            "c-2-was": "status",
            "c-3-condition": "",  # an empty row is left out
        }
    )
    data["c-2-values"] = ["lapsed", "dormant"]
    response = client.post(reverse("web:segment_new"), data)
    assert response.status_code == 302, response.content.decode()
    (segment,) = _segments(shop.shop)
    assert segment.rule == {
        "any": [
            {"condition": "visits", "op": "gte", "value": 2, "days": 30},
            {"not": {"condition": "days_since_last_visit", "op": "gte", "value": 60}},
            {"condition": "status", "values": ["lapsed", "dormant"]},
        ]
    }
    page = client.get(reverse("web:segment", args=[segment.pk])).content.decode()
    assert "또는" in page and "제외" in page


def test_edit_shows_the_stored_rule_and_saves_changes(client, shop):
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    body = client.get(reverse("web:segment_edit", args=[segment.pk])).content.decode()
    assert 'name="c-0-value" value="2"' in body and 'value="두 번 이상"' in body
    response = client.post(
        reverse("web:segment_edit", args=[segment.pk]), _form(name="세 번", **{"c-0-value": "3"})
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "세 번" and segment.rule["all"][0]["value"] == 3


def test_picking_another_condition_starts_from_its_defaults(client, shop):
    client.force_login(shop.owner)
    data = _form(op="redraw", **{"c-0-condition": "churn_probability"})
    body = client.post(reverse("web:segment_new"), data).content.decode()
    # the old "2" (visits) is not carried over into a 0–1 probability
    assert 'name="c-0-value" value="0.7"' in body
    assert 'name="c-0-was" value="churn_probability"' in body
    added = client.post(reverse("web:segment_new"), _form(op="add")).content.decode()
    assert 'name="c-1-condition"' in added
    removed = client.post(reverse("web:segment_new"), _form(op="remove-0")).content.decode()
    assert 'name="c-0-value"' not in removed and 'name="c-0-condition"' in removed
    assert _segments(shop.shop) == []


def _assert_refused(response, *fragments):
    assert response.status_code == 400
    body = response.content.decode()
    for fragment in fragments:
        assert fragment in body, fragment
    return body


@pytest.mark.parametrize(
    "extra, field_id, message",
    [
        ({"c-0-days": "-5"}, "err-c-0-days", "기간(일)은(는) 1 이상이어야 합니다."),
        ({"c-0-value": "100001"}, "err-c-0-value", "값은(는) 100000 이하여야 합니다."),
        ({"c-0-value": "<script>alert(1)</script>"}, "err-c-0-value", "숫자를 입력하세요."),
        ({"c-0-value": "2.5"}, "err-c-0-value", "정수여야 합니다."),
        ({"c-0-value": ""}, "err-c-0-value", "값을(를) 입력하세요."),
        ({"c-0-op": "<script>"}, "err-c-0-op", "비교 값이 올바르지 않습니다."),
        ({"c-0-condition": "nope", "c-0-was": "nope"}, "err-c-0-condition", "알 수 없는 조건"),
        ({"c-0-condition": ""}, "err-rule", "조건을 하나 이상 추가하세요."),
        ({"match": "xor"}, "err-rule", "모두 만족할지"),
    ],
)
def test_invalid_rows_get_field_messages_and_create_nothing(client, shop, extra, field_id, message):
    client.force_login(shop.owner)
    body = _assert_refused(client.post(reverse("web:segment_new"), _form(**extra)), message)
    if field_id != "err-rule":
        found = re.search(rf'id="{field_id}">(.*?)</div>', body, re.S)
        assert found and message in found.group(1), body
    assert "&lt;script&gt;" in body or "<script>" not in body.split("</head>")[1]
    assert _segments(shop.shop) == []


def test_missing_product_and_hostile_names(client, shop):
    client.force_login(shop.owner)
    bought = _form(
        **{
            "c-0-condition": "bought",
            "c-0-was": "bought",
            "c-0-op": None,
            "c-0-value": None,
            "c-0-days": "30",
        }
    )
    _assert_refused(client.post(reverse("web:segment_new"), bought), "상품이나 분류를 하나 이상")
    _assert_refused(
        client.post(reverse("web:segment_new"), {**bought, "c-0-products": ["abc"]}),
        "목록에서 고르세요",
    )
    long_name = _assert_refused(client.post(reverse("web:segment_new"), _form(name="가" * 10_000)))
    name_errors = re.search(r'name="name".*?(<p class="error">.*?)</div>', long_name, re.S)
    assert name_errors and "80" in name_errors.group(1)
    _assert_refused(client.post(reverse("web:segment_new"), _form(name="   ")), "이름")
    hostile = "<script>alert(1)</script>"
    body = _assert_refused(
        client.post(reverse("web:segment_new"), _form(name=hostile, **{"c-0-days": "0"}))
    )
    assert hostile not in body and "&lt;script&gt;" in body
    assert _segments(shop.shop) == []
    # A name with markup in it is just text: stored as typed, always shown escaped.
    response = client.post(reverse("web:segment_new"), _form(name=hostile))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_deleted_product_is_a_warning_not_an_error(client, shop):
    client.force_login(shop.owner)
    data = _form(
        **{
            "c-0-condition": "bought",
            "c-0-was": "bought",
            "c-0-op": None,
            "c-0-value": None,
            "c-0-days": "",
        }
    )
    data["c-0-products"] = [str(shop.product.pk), "999999"]
    body = client.post(reverse("web:segment_preview"), data).content.decode()
    assert 'data-preview-count="6"' in body
    assert "삭제된 상품 1개" in body


# ── preview ────────────────────────────────────────────────────────────────────────────────


def test_preview_count_matches_the_engine(client, shop):
    client.force_login(shop.owner)
    response = client.post(reverse("web:segment_preview"), _form())
    assert response.status_code == 200
    body = response.content.decode()
    with shop_scope(shop.shop):
        expected = segment_preview(shop=shop.shop, rule=VISITS_2_IN_30)
    assert expected.count == 3
    assert f'data-preview-count="{expected.count}"' in body
    for c in expected.sample:
        assert reverse("web:customer", args=[c.pk]) in body and c.name in body
    negated = client.post(reverse("web:segment_preview"), _form(**{"c-0-not": "on"}))
    assert 'data-preview-count="3"' in negated.content.decode()  # 2 once + 1 old
    assert _segments(shop.shop) == []


def test_preview_shows_field_errors_out_of_band(client, shop):
    client.force_login(shop.owner)
    response = client.post(reverse("web:segment_preview"), _form(**{"c-0-days": "-1"}))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-preview-count=""' in body
    oob = re.search(r'id="err-c-0-days" class="field-errors" hx-swap-oob="true">(.*?)</div>', body)
    assert oob and "1 이상" in oob.group(1)


# ── segment page, why, history ─────────────────────────────────────────────────────────────


def test_segment_page_lists_members_with_masked_phones(client, shop):
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    body = client.get(reverse("web:segment", args=[segment.pk])).content.decode()
    assert 'data-member-count="3"' in body
    for c in shop.regulars:
        assert c.name in body
        assert reverse("web:segment_why", args=[segment.pk, c.pk]) in body
    assert "010-****-1000" in body and "010-5555-1000" not in body
    assert "옛손님" not in body


def test_segment_members_are_paginated(client, shop):
    for i in range(27):
        c = make_customer(shop.shop, name=f"손님{i}")
        make_purchases(shop.shop, shop.store, shop.product, c, days_ago=[2, 4])
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    first = client.get(reverse("web:segment", args=[segment.pk])).content.decode()
    assert 'data-member-count="30"' in first and "1 / 2" in first
    second = client.get(reverse("web:segment", args=[segment.pk]), {"page": 2}).content.decode()
    assert "2 / 2" in second and second.count('class="why-link"') == 5


def test_why_view_shows_ticks_and_values(client, shop):
    rule = {
        "all": [
            {"condition": "visits", "op": "gte", "value": 2, "days": 30},
            {"not": {"condition": "days_since_last_visit", "op": "gte", "value": 60}},
        ]
    }
    segment = _own_segment(shop.shop, rule)
    client.force_login(shop.owner)
    inside = client.get(reverse("web:segment_why", args=[segment.pk, shop.regulars[0].pk]))
    body = inside.content.decode()
    assert 'data-inside="1"' in body and "최근 30일 방문 2회 이상" in body
    assert "<b>3</b>" in body  # 3 visits in the last 30 days
    assert "✓" in body and "✗" in body  # visits held; the excluded condition did not
    outside = client.get(
        reverse("web:segment_why", args=[segment.pk, shop.old.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-inside="0"' in outside and "<html" not in outside
    assert "<b>0</b>" in outside and "<b>100</b>" in outside


def test_history_shows_entries_after_a_count(client, shop):
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    client.post(reverse("web:segments_refresh"))
    body = client.get(reverse("web:segment", args=[segment.pk])).content.decode()
    history = re.search(r'data-section="history">(.*?)</section>', body, re.S).group(1)
    assert history.count('class="tag in"') == 3 and "단골0" in history


def test_deep_rules_display_read_only(client, shop):
    deep = {
        "any": [
            {"all": [{"condition": "visits", "op": "gte", "value": 2, "days": 30}]},
            {"condition": "days_since_last_visit", "op": "gte", "value": 90},
        ]
    }
    segment = _own_segment(shop.shop, deep, name="깊은 규칙")
    client.force_login(shop.owner)
    page = client.get(reverse("web:segment", args=[segment.pk])).content.decode()
    assert "(최근 30일 방문 2회 이상) 또는 마지막 방문 후 90일 이상" not in page
    assert "최근 30일 방문 2회 이상 또는 마지막 방문 후 90일 이상" in page
    assert 'data-member-count="4"' in page
    edit = client.get(reverse("web:segment_edit", args=[segment.pk]))
    assert edit.status_code == 200
    assert 'data-section="read-only"' in edit.content.decode()


def test_builtins_are_read_only_and_can_be_copied(client, shop):
    with shop_scope(shop.shop):
        segment_builtins_install(shop=shop.shop)
        vip = Segment.objects.for_shop(shop.shop).get(builtin_key="vip")
    client.force_login(shop.owner)
    edit = client.get(reverse("web:segment_edit", args=[vip.pk])).content.decode()
    assert 'data-section="read-only"' in edit and "복사" in edit
    posted = client.post(reverse("web:segment_edit", args=[vip.pk]), _form(name="해킹"))
    assert posted.status_code == 200
    vip.refresh_from_db()
    assert vip.name == "VIP"
    response = client.post(reverse("web:segment_copy", args=[vip.pk]))
    (copy,) = _segments(shop.shop)
    assert response["Location"] == reverse("web:segment_edit", args=[copy.pk])
    assert copy.rule == vip.rule and copy.name == "VIP (사본)"


def test_archive_asks_first_then_hides(client, shop):
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    confirm = client.get(reverse("web:segment_archive", args=[segment.pk]))
    assert confirm.status_code == 200 and "보관할까요" in confirm.content.decode()
    segment.refresh_from_db()
    assert not segment.archived
    assert client.post(reverse("web:segment_archive", args=[segment.pk])).status_code == 302
    segment.refresh_from_db()
    assert segment.archived
    listing = client.get(reverse("web:segments")).content.decode()
    assert f'data-segment="{segment.pk}"' not in listing and "보관된 세그먼트 1개" in listing
    archived = client.get(reverse("web:segments"), {"archived": "1"}).content.decode()
    assert f'data-segment="{segment.pk}"' in archived


# ── export ─────────────────────────────────────────────────────────────────────────────────


def test_export_requires_a_reason(client, shop, caplog):
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    url = reverse("web:segment_export", args=[segment.pk])
    assert client.get(url).status_code == 200
    with caplog.at_level(logging.INFO, logger="dangol.audit"):
        missing = client.post(url, {})
        other = client.post(url, {"reason": "other", "note": ""})
        hostile = client.post(url, {"reason": "<script>"})
    assert missing.status_code == other.status_code == hostile.status_code == 400
    assert "필수 항목" in missing.content.decode()
    assert "왜 필요한지" in other.content.decode()
    assert not [r for r in caplog.records if r.name == "dangol.audit"]


def test_export_is_a_masked_csv_with_bom_and_an_audit_line(client, shop, caplog):
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    url = reverse("web:segment_export", args=[segment.pk])
    with caplog.at_level(logging.INFO, logger="dangol.audit"):
        response = client.post(url, {"reason": "messaging", "note": "주말 쿠폰"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "이름,전화번호(마스킹),방문,마지막 방문,총 구매액"
    assert len(lines) == 4
    assert any(line.startswith("단골0,010-****-1000,3,") for line in lines)
    assert "5555" not in raw.decode("utf-8-sig")
    (record,) = [r for r in caplog.records if r.name == "dangol.audit"]
    assert record.levelno == logging.INFO
    assert record.audit["rows"] == 3 and record.audit["segment_id"] == segment.pk
    assert record.audit["shop_id"] == shop.shop.pk and record.audit["reason"] == "messaging"
    assert record.audit["user"] == "owner-segs"
    assert '"rows": 3' in record.getMessage()
    # The free-text note may name people: it is kept in the access-log table, not in log lines.
    assert "주말 쿠폰" not in record.getMessage() and "note" not in record.audit
    with shop_scope(shop.shop):
        event = AuditEvent.objects.for_shop(shop.shop).get(action="export")
    assert event.reason.endswith(": 주말 쿠폰") and event.rows == 3 and event.via == "web"


def test_export_defuses_spreadsheet_formulas(client, shop):
    evil = make_customer(shop.shop, name='=HYPERLINK("x")')
    make_purchases(shop.shop, shop.store, shop.product, evil, days_ago=[1, 2])
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    response = client.post(reverse("web:segment_export", args=[segment.pk]), {"reason": "analysis"})
    text = response.content.decode("utf-8-sig")
    assert '"\'=HYPERLINK(""x"")"' in text


# ── roles and tenancy ──────────────────────────────────────────────────────────────────────


def test_staff_can_view_but_not_export_or_edit(client, shop, caplog):
    segment = _own_segment(shop.shop)
    client.force_login(shop.staff)
    assert client.get(reverse("web:segments")).status_code == 200
    page = client.get(reverse("web:segment", args=[segment.pk]))
    assert page.status_code == 200
    assert reverse("web:segment_export", args=[segment.pk]) not in page.content.decode()
    customer = shop.regulars[0]
    assert client.get(reverse("web:segment_why", args=[segment.pk, customer.pk])).status_code == 200
    with caplog.at_level(logging.INFO, logger="dangol.audit"):
        refused = [
            client.get(reverse("web:segment_new")),
            client.post(reverse("web:segment_new"), _form()),
            client.post(reverse("web:segment_preview"), _form()),
            client.get(reverse("web:segment_edit", args=[segment.pk])),
            client.post(reverse("web:segment_edit", args=[segment.pk]), _form(name="x")),
            client.post(reverse("web:segment_copy", args=[segment.pk])),
            client.post(reverse("web:segment_archive", args=[segment.pk])),
            client.get(reverse("web:segment_export", args=[segment.pk])),
            client.post(reverse("web:segment_export", args=[segment.pk]), {"reason": "analysis"}),
            client.post(reverse("web:segments_refresh")),
        ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert not [r for r in caplog.records if r.name == "dangol.audit"]
    segment.refresh_from_db()
    assert segment.name == "두 번 이상" and not segment.archived
    assert len(_segments(shop.shop)) == 1


def test_other_shops_segments_and_customers_are_404(client, two_shops):
    theirs = _own_segment(two_shops.a.shop)
    mine = _own_segment(two_shops.b.shop)
    foreign_customer = two_shops.a.customer.pk
    client.force_login(two_shops.b.owner)
    urls = [
        reverse("web:segment", args=[theirs.pk]),
        reverse("web:segment_edit", args=[theirs.pk]),
        reverse("web:segment_copy", args=[theirs.pk]),
        reverse("web:segment_archive", args=[theirs.pk]),
        reverse("web:segment_export", args=[theirs.pk]),
        reverse("web:segment_why", args=[theirs.pk, foreign_customer]),
        reverse("web:segment_why", args=[theirs.pk, two_shops.b.customer.pk]),
        reverse("web:segment_why", args=[mine.pk, foreign_customer]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "analysis", **_form()}).status_code == 404, url
    theirs.refresh_from_db()
    assert not theirs.archived and theirs.name == "두 번 이상"
    listing = client.get(reverse("web:segments")).content.decode()
    assert f'data-segment="{theirs.pk}"' not in listing


def test_preview_never_counts_another_shops_customers(client, two_shops):
    client.force_login(two_shops.b.owner)
    data = _form(**{"c-0-value": "1", "c-0-days": "60"})
    body = client.post(reverse("web:segment_preview"), data).content.decode()
    assert 'data-preview-count="1"' in body and "박서준" in body and "김민지" not in body
    # another shop's product id is just an unknown product here
    bought = _form(
        **{"c-0-condition": "bought", "c-0-was": "bought", "c-0-op": None, "c-0-value": None}
    )
    bought["c-0-products"] = [str(two_shops.a.product.pk)]
    body = client.post(reverse("web:segment_preview"), bought).content.decode()
    assert 'data-preview-count="0"' in body and "삭제된 상품 1개" in body


def test_pages_follow_the_language(client, shop):
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    builder = client.get(reverse("web:segment_edit", args=[segment.pk])).content.decode()
    assert "all of the conditions" in builder and "Number of visits" in builder
    page = client.get(reverse("web:segment", args=[segment.pk])).content.decode()
    assert "at least 2 visits in the last 30 days" in page and "Members now" in page
    refused = client.post(reverse("web:segment_new"), _form(**{"c-0-days": "0"}))
    assert "window (days) must be at least 1." in refused.content.decode()


def test_query_counts_do_not_grow_with_members(client, shop, django_assert_max_num_queries):
    for i in range(30):
        c = make_customer(shop.shop, name=f"추가{i}")
        make_purchases(shop.shop, shop.store, shop.product, c, days_ago=[2, 4])
    segment = _own_segment(shop.shop)
    client.force_login(shop.owner)
    client.post(reverse("web:segments_refresh"))
    with django_assert_max_num_queries(12):
        body = client.get(reverse("web:segment", args=[segment.pk])).content.decode()
    assert 'data-member-count="33"' in body
    with django_assert_max_num_queries(8):
        client.get(reverse("web:segments"))
