"""Owner pages for messages: templates (create, change as a new version, errors with their places),
the live preview of the exact text the legal check sends, and sending a template to a segment
after a forecast of what the check would decide, queued once per day."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.timezone import now as django_now

from dangol.audit.models import AuditEvent
from dangol.core.tenancy import shop_scope
from dangol.customers.services import (
    ConsentInput,
    CustomerInput,
    consent_record,
    customer_create,
)
from dangol.messaging.models import MessageTemplate, OutboxMessage
from dangol.messaging.policy import SEOUL
from dangol.messaging.services import suppression_add, template_create
from dangol.sales.services import LineInput, PurchaseInput, purchase_bulk_create
from dangol.segments.services import segment_create
from dangol.shops.models import Role
from dangol.shops.services import membership_grant
from dangol.web import template_views
from tests.app.factories import make_shop

# Own counters: the shared factory's counter makes invalid numbers once many tests have used it.
_phones = itertools.count(1000)
_receipts = itertools.count(1)


def make_customer(shop, *, name: str, phone: str | None = None):
    phone = phone or f"010-6300-{next(_phones):04d}"
    return customer_create(shop=shop, data=CustomerInput(name=name, phone=phone))


def make_purchases(shop, store, product, customer, *, days_ago: list[int]):
    now = django_now()
    rows = [
        PurchaseInput(
            store_id=store.pk,
            customer_id=customer.pk,
            source="pos",
            external_id=f"MSG-{next(_receipts)}",
            occurred_at=now - dt.timedelta(days=d),
            lines=[LineInput(product=product, name=product.name, quantity=1, unit_price=4500)],
        )
        for d in days_ago
    ]
    return purchase_bulk_create(shop=shop, rows=rows)


ALL_VISITORS = {"all": [{"condition": "visits", "op": "gte", "value": 1}]}
NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=SEOUL)
NIGHT = dt.datetime(2026, 3, 2, 23, 30, tzinfo=SEOUL)


@pytest.fixture
def at_noon(monkeypatch):
    monkeypatch.setattr(template_views, "_now", lambda: NOON)


@pytest.fixture
def shop(db, at_noon):
    shop, store, owner, product = make_shop("msgs", name="단골커피")
    shop.sender_numbers = ["010-1234-5678"]
    shop.save()
    consented, refused, silent = [], [], []
    for i in range(4):
        c = make_customer(shop, name=f"동의{i}", phone=f"010-6000-{1000 + i}")
        consent_record(customer=c, data=ConsentInput(kind="ad_sms", granted=True, source="staff"))
        consented.append(c)
    for i in range(2):
        c = make_customer(shop, name=f"거부{i}", phone=f"010-6100-{1000 + i}")
        consent_record(customer=c, data=ConsentInput(kind="ad_sms", granted=True, source="staff"))
        suppression_add(shop=shop, address=c.phone, channel="sms", source="080")
        refused.append(c)
    for i in range(3):
        silent.append(make_customer(shop, name=f"미동의{i}", phone=f"010-6200-{1000 + i}"))
    for c in consented + refused + silent:
        make_purchases(shop, store, product, c, days_ago=[2])
    staff = get_user_model().objects.create_user(username="staff-msgs", password="x-long-pass-1")
    membership_grant(shop=shop, user=staff, role=Role.STAFF)
    with shop_scope(shop):
        segment = segment_create(shop=shop, name="모든 손님", rule=ALL_VISITORS)
        template = template_create(
            shop=shop,
            name="보고 싶어요",
            channel="sms",
            kind="ad",
            body="{name}님, 이번 주 아메리카노 1+1이에요",
        )
    return SimpleNamespace(
        shop=shop,
        store=store,
        product=product,
        owner=owner,
        staff=staff,
        segment=segment,
        template=template,
        consented=consented,
        refused=refused,
        silent=silent,
    )


def _templates(shop):
    return list(MessageTemplate.objects.for_shop(shop.shop).order_by("pk"))


def _form(**extra):
    data = {"name": "다시 와요", "channel": "sms", "kind": "ad", "subject": "", "body": "안녕"}
    data.update(extra)
    return data


# ── templates ──────────────────────────────────────────────────────────────────────────────


def test_list_shows_templates_with_channel_and_kind(client, shop):
    client.force_login(shop.owner)
    response = client.get(reverse("web:message_templates"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "보고 싶어요" in body and "광고" in body and "문자" in body
    assert "{name}님, 이번 주" in body  # the excerpt
    assert 'data-insert="{favourite_item}"' in body and "자주 사는 메뉴" in body
    assert 'data-insert="{이/가}"' in body
    assert "새 템플릿" in body


def test_create_a_valid_template(client, shop):
    client.force_login(shop.owner)
    response = client.post(
        reverse("web:message_templates"),
        _form(body="{name}님, {favourite_item}{을/를} 준비했어요", kind="info"),
    )
    assert response.status_code == 302
    created = _templates(shop)[-1]
    assert created.name == "다시 와요" and created.kind == "info" and created.channel == "sms"
    assert created.body == "{name}님, {favourite_item}{을/를} 준비했어요"
    with shop_scope(shop.shop):
        assert AuditEvent.objects.filter(object_type="message_template").count() == 1


def test_unknown_kind_is_advertising(client, shop):
    client.force_login(shop.owner)
    client.post(reverse("web:message_templates"), _form(kind="maybe"))
    assert _templates(shop)[-1].kind == "ad"
    data = _form()
    del data["kind"]
    client.post(reverse("web:message_templates"), data)
    assert _templates(shop)[-1].kind == "ad"


@pytest.mark.parametrize(
    "body, where, what",
    [
        ("안녕 {nmae}님", "1줄 4번째 글자", "모르는 변수예요: {nmae}"),
        ("첫 줄\n{name님 반가워요", "2줄 1번째 글자", "닫히지 않은 {가 있어요"),
        ("안녕}", "1줄 3번째 글자", "여는 { 없이 }가 있어요"),
        ("안녕\x00하세요", "1줄 3번째 글자", "U+0000"),
    ],
)
def test_broken_template_shows_each_problem_with_its_place(client, shop, body, where, what):
    client.force_login(shop.owner)
    before = len(_templates(shop))
    response = client.post(reverse("web:message_templates"), _form(body=body))
    assert response.status_code == 400
    page = response.content.decode()
    problems = re.search(r'<div id="body-problems">(.*?)</div>', page, re.S).group(1)
    assert where in problems and what in problems
    assert len(_templates(shop)) == before


def test_overlong_body_is_a_field_error(client, shop):
    client.force_login(shop.owner)
    before = len(_templates(shop))
    response = client.post(reverse("web:message_templates"), _form(body="가" * 20_000))
    assert response.status_code == 400
    problems = re.search(
        r'<div id="body-problems">(.*?)</div>', response.content.decode(), re.S
    ).group(1)
    assert "5,000" in problems and "20,000" in problems
    assert len(_templates(shop)) == before


def test_broken_subject_is_marked_on_the_subject(client, shop):
    client.force_login(shop.owner)
    response = client.post(
        reverse("web:message_templates"), _form(channel="email", subject="{쿠폰} 도착")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "모르는 변수예요: {쿠폰}" in page
    assert "모르는 변수예요: {쿠폰}" not in re.search(
        r'<div id="body-problems">(.*?)</div>', page, re.S
    ).group(1)


def test_script_is_kept_as_text_and_never_rendered(client, shop):
    client.force_login(shop.owner)
    response = client.post(
        reverse("web:message_templates"),
        _form(name="<script>alert(1)</script>", body="<script>alert(1)</script> {name}"),
    )
    assert response.status_code == 302
    page = client.get(reverse("web:message_templates")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_change_saves_a_new_version_and_archives_the_old(client, shop):
    client.force_login(shop.owner)
    old = shop.template
    page = client.get(reverse("web:message_templates"), {"edit": old.pk}).content.decode()
    assert "{name}님, 이번 주 아메리카노 1+1이에요</textarea>" in page
    response = client.post(
        reverse("web:message_templates"),
        _form(replaces=old.pk, name="보고 싶어요", body="{name}님, 라떼 1+1이에요"),
    )
    assert response.status_code == 302
    with shop_scope(shop.shop):
        old.refresh_from_db()
        assert old.archived
        live = list(MessageTemplate.objects.filter(archived=False))
    assert [t.body for t in live] == ["{name}님, 라떼 1+1이에요"]
    assert "아메리카노 1+1" not in client.get(reverse("web:message_templates")).content.decode()


def test_staff_can_look_but_not_write(client, shop):
    client.force_login(shop.staff)
    page = client.get(reverse("web:message_templates"))
    assert page.status_code == 200 and "보고 싶어요" in page.content.decode()
    assert 'name="body"' not in page.content.decode()
    assert client.post(reverse("web:message_templates"), _form()).status_code == 403
    assert client.post(reverse("web:message_preview"), _form()).status_code == 403
    assert len(_templates(shop)) == 1


def test_other_shops_template_cannot_be_changed(client, shop):
    other, *_ = make_shop("other-msgs")
    with shop_scope(other):
        theirs = template_create(shop=other, name="남의 것", channel="sms", kind="ad", body="x")
    client.force_login(shop.owner)
    assert client.get(reverse("web:message_templates"), {"edit": theirs.pk}).status_code == 404
    response = client.post(reverse("web:message_templates"), _form(replaces=theirs.pk))
    assert response.status_code == 404
    assert client.get(reverse("web:message_templates"), {"edit": "x"}).status_code == 404
    with shop_scope(other):
        assert not MessageTemplate.objects.get(pk=theirs.pk).archived


# ── live preview ───────────────────────────────────────────────────────────────────────────


def _preview(client, **extra):
    response = client.post(reverse("web:message_preview"), _form(**extra))
    assert response.status_code == 200
    return response.content.decode()


def _final(page: str) -> str:
    import html

    return html.unescape(re.search(r"<pre class=\"final-text\"[^>]*>(.*?)</pre>", page, re.S)[1])


def test_preview_shows_the_final_ad_text(client, shop):
    client.force_login(shop.owner)
    page = _preview(client, body="{name}님, {favourite_item}{을/를} 준비했어요")
    final = _final(page)
    # The sender line: marker, shop name and the shop's phone as people write it (the same
    # identity the dispatcher gives the gate), not the caller number.
    assert final.startswith("(광고)단골커피 02-555-0101\n")
    assert "김지민님, 아메리카노를 준비했어요" in final
    assert final.endswith("무료수신거부 080-123-4567")
    assert 'data-decision="send"' in page
    assert 'data-message-type="SMS"' in page
    assert "(광고) 표시를 붙였어요" in page and "무료수신거부 안내를 붙였어요" in page


def test_preview_counts_bytes_and_switches_to_lms_over_90(client, shop):
    client.force_login(shop.owner)
    # The marker line, the footer and the line breaks take a fixed number of bytes.
    fixed = len(f"(광고)단골커피 {shop.shop.phone}\n\n무료수신거부 080-123-4567".encode("cp949"))
    fits = "a" * (90 - fixed)
    page = _preview(client, body=fits)
    assert 'data-preview-bytes="90"' in page and 'data-message-type="SMS"' in page
    assert "90 / 90바이트" in page
    page = _preview(client, body=fits + "a")
    assert 'data-preview-bytes="91"' in page and 'data-message-type="LMS"' in page
    assert "91 / 2,000바이트" in page
    assert "90바이트를 넘어 장문(LMS)으로 보냈어요" in page
    page = _preview(client, body=fits[:-1] + "가")  # a Hangul syllable is 2 bytes
    assert 'data-preview-bytes="91"' in page


def test_preview_names_the_emoji_that_blocks_an_sms(client, shop):
    client.force_login(shop.owner)
    page = _preview(client, body="커피 한 잔 ☕ 어때요")
    assert 'data-decision="block"' in page
    assert 'data-reason="emoji_in_sms"' in page and "문자에 이모지가 있어요" in page
    assert "U+2615" in page


def test_preview_blocks_ads_without_an_080_number(client, shop):
    shop.shop.optout_080 = ""
    shop.shop.save()
    client.force_login(shop.owner)
    page = _preview(client, body="봄 신메뉴")
    assert 'data-decision="block"' in page
    assert "080 무료수신거부 번호가 없어 광고를 보낼 수 없어요" in page


def test_preview_at_night_says_it_waits_until_eight(client, shop, monkeypatch):
    monkeypatch.setattr(template_views, "_now", lambda: NIGHT)
    client.force_login(shop.owner)
    page = _preview(client, body="봄 신메뉴")
    assert 'data-decision="hold"' in page
    assert "지금 보내면 내일 08:00까지 기다려요" in page
    assert "밤 9시~아침 8시라 아침 8시까지 기다려요" in page
    info = _preview(client, body="주문하신 케이크가 준비됐어요", kind="info")
    assert 'data-decision="send"' in info and "(광고)" not in _final(info)


def test_preview_shows_template_problems_instead_of_a_500(client, shop):
    client.force_login(shop.owner)
    page = _preview(client, body="{name 님")
    assert "1줄 1번째 글자" in page and "닫히지 않은 {가 있어요" in page
    page = _preview(client, body="x" * 30_000)
    assert "data-preview-bytes" in page
    page = _preview(client, body="", channel="bogus", kind="??")
    assert "data-preview-bytes" in page


def test_preview_of_an_email_ad(client, shop):
    shop.shop.address = "서울 마포구 1"
    shop.shop.email = "hello@dangol.example"
    shop.shop.save()
    client.force_login(shop.owner)
    page = _preview(client, channel="email", subject="{name}님께 봄 소식", body="봄이 왔어요")
    assert 'data-decision="send"' in page
    assert "(광고) 김지민님께 봄 소식" in page
    assert "수신거부 / Unsubscribe: http" in _final(page)


# ── send to a segment ──────────────────────────────────────────────────────────────────────


def _send_url(shop, **params):
    params = {"segment": shop.segment.pk, "template": shop.template.pk, **params}
    return reverse("web:message_send") + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def test_send_page_forecasts_what_the_gate_would_decide(client, shop):
    client.force_login(shop.owner)
    response = client.get(_send_url(shop))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-members="9"' in page
    assert re.search(r'data-forecast="send">4<', page)
    assert re.search(r'data-forecast="hold">0<', page)
    assert re.search(r'data-forecast="block">5<', page)
    assert "광고 수신에 동의하지 않은 손님이에요" in page and "수신을 거부한 손님이에요" in page
    assert "9명에게 보낼 메시지함에 넣기" in page
    assert "두 번" in page  # pressing twice the same day queues nothing twice


def test_send_page_warns_about_variables_a_segment_send_leaves_empty(client, shop):
    with shop_scope(shop.shop):
        template = template_create(
            shop=shop.shop,
            name="x",
            channel="sms",
            kind="ad",
            body="{name}님 {points}점 {stamps}개 {favourite_item} {link} {coupon_code}",
        )
        filled = template_create(
            shop=shop.shop, name="y", channel="sms", kind="ad", body="{stamps}개 {link}"
        )
    client.force_login(shop.owner)
    page = client.get(_send_url(shop, template=template.pk)).content.decode()
    unfilled = re.search(r"<p [^>]*data-unfilled>(.*?)</p>", page, re.S)[1]
    # Only a coupon needs what a campaign does not do (issue one per send).
    assert "{coupon_code}" in unfilled and "쿠폰" in unfilled
    assert not any(v in unfilled for v in ("{points}", "{stamps}", "{favourite_item}", "{link}"))
    assert "data-unfilled" not in client.get(_send_url(shop, template=filled.pk)).content.decode()
    assert "data-unfilled" not in client.get(_send_url(shop)).content.decode()


def test_send_forecast_at_night_holds(client, shop, monkeypatch):
    monkeypatch.setattr(template_views, "_now", lambda: NIGHT)
    client.force_login(shop.owner)
    page = client.get(_send_url(shop)).content.decode()
    assert re.search(r'data-forecast="send">0<', page)
    assert re.search(r'data-forecast="hold">4<', page)
    # The blocked are counted under what blocks them, not also under the night hold.
    assert re.search(r"밤 9시~아침 8시라 아침 8시까지 기다려요 <span class=\"muted\">4명<", page)


def test_confirm_queues_exactly_once(client, shop):
    client.force_login(shop.owner)
    data = {"segment": shop.segment.pk, "template": shop.template.pk}
    response = client.post(reverse("web:message_send"), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:outbox")
    page = response.content.decode()
    assert "9건을 보낼 메시지함에 넣었어요. 보내기 직전에 한 번 더 법적 확인을 해요." in page
    with shop_scope(shop.shop):
        assert OutboxMessage.objects.count() == 9
        event = AuditEvent.objects.get(object_type="campaign")
    assert event.action == "change" and event.rows == 9
    assert event.object_id == str(shop.segment.pk)

    again = client.post(reverse("web:message_send"), data, follow=True)
    assert "0건을 보낼 메시지함에 넣었어요." in again.content.decode()
    with shop_scope(shop.shop):
        assert OutboxMessage.objects.count() == 9
    assert "이미 오늘 이 세그먼트에 9건" in client.get(_send_url(shop)).content.decode()


def test_staff_sees_the_forecast_but_cannot_send(client, shop):
    client.force_login(shop.staff)
    page = client.get(_send_url(shop))
    assert page.status_code == 200 and "data-confirm" not in page.content.decode()
    data = {"segment": shop.segment.pk, "template": shop.template.pk}
    assert client.post(reverse("web:message_send"), data).status_code == 403
    with shop_scope(shop.shop):
        assert OutboxMessage.objects.count() == 0


def test_other_shops_segment_or_template_is_404(client, shop):
    other, *_ = make_shop("other-send")
    with shop_scope(other):
        their_segment = segment_create(shop=other, name="남의 것", rule=ALL_VISITORS)
        their_template = template_create(shop=other, name="x", channel="sms", kind="ad", body="x")
    client.force_login(shop.owner)
    for params in ({"segment": their_segment.pk}, {"template": their_template.pk}):
        assert client.get(_send_url(shop, **params)).status_code == 404
        data = {"segment": shop.segment.pk, "template": shop.template.pk, **params}
        assert client.post(reverse("web:message_send"), data).status_code == 404
    assert client.get(_send_url(shop, segment="abc")).status_code == 404
    with shop_scope(shop.shop):
        assert OutboxMessage.objects.count() == 0


def test_pages_link_to_each_other(client, shop):
    client.force_login(shop.owner)
    outbox = client.get(reverse("web:outbox")).content.decode()
    assert reverse("web:message_templates") in outbox and reverse("web:message_send") in outbox
    segment_page = client.get(reverse("web:segment", args=[shop.segment.pk])).content.decode()
    assert f"{reverse('web:message_send')}?segment={shop.segment.pk}" in segment_page
    assert "메시지 보내기" in segment_page
    empty = client.get(reverse("web:message_send"))
    assert empty.status_code == 200 and "모든 손님" in empty.content.decode()


def test_english_pages(client, shop):
    client.force_login(shop.owner)
    client.cookies["django_language"] = "en"
    page = client.get(_send_url(shop), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Put in the outbox for 9 people" in page


def test_queries_do_not_grow_with_members(client, shop, django_assert_max_num_queries):
    client.force_login(shop.owner)
    # The forecast fills stamps and the favourite item too: two queries, whatever the size.
    with django_assert_max_num_queries(22):
        client.get(_send_url(shop))
    with django_assert_max_num_queries(10):
        client.get(reverse("web:message_templates"))
    with django_assert_max_num_queries(8):
        client.post(reverse("web:message_preview"), _form())
    for i in range(30):
        c = make_customer(shop.shop, name=f"추가{i}")
        consent_record(customer=c, data=ConsentInput(kind="ad_sms", granted=True, source="staff"))
        make_purchases(shop.shop, shop.store, shop.product, c, days_ago=[1])
    with django_assert_max_num_queries(22):
        page = client.get(_send_url(shop)).content.decode()
    assert 'data-members="39"' in page
