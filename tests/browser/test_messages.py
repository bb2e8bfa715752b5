"""On a phone, the owner writes an ad template, watches the live preview add the (광고) marker and
count the bytes as they type, sends it to a segment after seeing the forecast, and lands on the
outbox with the messages queued."""

from __future__ import annotations

import re

from django.utils import timezone

from dangol.core.tenancy import shop_scope
from dangol.demo.services import demo_shop_seed
from dangol.messaging.models import MessageTemplate, OutboxMessage
from dangol.scoring.services import shop_score
from dangol.segments.models import Segment
from dangol.segments.selectors import segment_members
from dangol.segments.services import shop_segments_refresh
from dangol.shops.services import owner_create


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _wait_preview(page, predicate: str, arg=None) -> None:
    page.wait_for_function(
        "arg => { const box = document.querySelector('#preview');"
        f" return box && ({predicate}); }}",
        arg=arg,
        timeout=10_000,
    )


def _bytes(page) -> int:
    return int(page.locator("#preview [data-preview-bytes]").get_attribute("data-preview-bytes"))


def test_owner_writes_a_template_and_sends_it_to_a_segment(live_server, phone_page, artifacts):
    shop = demo_shop_seed(slug="demo", customers=150, months=6, seed=3, end=timezone.localdate())
    owner_create(shop=shop, username="owner", password="demo-password-123")
    with shop_scope(shop):
        shop_score(shop=shop)
        shop_segments_refresh(shop=shop)
        segment = (
            Segment.objects.for_shop(shop)
            .filter(archived=False, member_count__gt=0)
            .order_by("-member_count", "pk")
            .first()
        )
        members = segment_members(shop=shop, segment=segment).count()
    assert members > 0

    page = phone_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("아이디").fill("owner")
    page.get_by_label("비밀번호").fill("demo-password-123")
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="메시지", exact=True).first.click()
    page.wait_for_url(f"{live_server.url}/messages/")
    page.get_by_role("link", name="메시지 템플릿").click()
    page.wait_for_url(f"{live_server.url}/messages/templates/")
    assert page.get_by_role("heading", name="새 템플릿").is_visible()
    assert page.get_by_label("광고").is_checked()  # unknown is advertising

    page.get_by_label("템플릿 이름").fill("봄 신메뉴")
    body = page.locator("#id_body")
    body.press_sequentially("{name}님, 딸기라떼 나왔어요", delay=15)
    _wait_preview(page, "box.textContent.includes('김지민님, 딸기라떼 나왔어요')")
    final = page.locator("#preview .final-text").inner_text()
    assert final.startswith("(광고)") and "무료수신거부 080-855-1472" in final
    assert page.locator("#preview [data-message-type]").inner_text() == "SMS"
    short = _bytes(page)
    assert short <= 90
    assert f"{short} / 90바이트" in page.locator("#preview .bytes").inner_text()
    _fits(page)

    # A variable from the list goes in at the cursor; the preview fills it with an example.
    body.press("End")
    body.press_sequentially(" ", delay=15)
    page.locator('[data-insert="{favourite_item}"]').click()
    assert body.input_value().endswith("{favourite_item}")
    _wait_preview(page, "box.textContent.includes('나왔어요 아메리카노')")
    assert _bytes(page) > short

    # Past 90 bytes the same text goes as an LMS, and the count follows.
    body.press_sequentially(" 이번 주말까지 두 잔 주문하시면 한 잔 더 드려요", delay=10)
    _wait_preview(page, "box.querySelector('[data-message-type=LMS]') !== null")
    assert _bytes(page) > 90
    assert "/ 2,000바이트" in page.locator("#preview .bytes").inner_text()
    assert "90바이트를 넘어 장문(LMS)으로 보냈어요" in page.locator("#preview").inner_text()
    _fits(page)
    page.screenshot(path=str(artifacts / "message-template-preview-390px.png"), full_page=True)

    page.get_by_role("button", name="템플릿 저장").click()
    page.wait_for_url(f"{live_server.url}/messages/templates/")
    with shop_scope(shop):
        template = MessageTemplate.objects.for_shop(shop).get(name="봄 신메뉴")
    assert template.kind == "ad" and template.channel == "sms"
    assert page.locator(f'[data-template="{template.pk}"]').is_visible()
    _fits(page)

    page.locator(f'[data-template="{template.pk}"]').get_by_role("link", name="보내기").click()
    page.wait_for_url(re.compile(r"/messages/send/\?template=\d+$"))
    page.select_option("#id_segment", str(segment.pk))
    page.wait_for_selector(f'[data-members="{members}"]', timeout=10_000)
    counts = {
        k: int(page.locator(f'[data-forecast="{k}"]').inner_text().replace(",", ""))
        for k in ("send", "hold", "block")
    }
    assert 0 < sum(counts.values()) <= min(members, 200)
    assert "두 번" in page.locator("[data-section=forecast]").inner_text()
    _fits(page)
    page.screenshot(path=str(artifacts / "message-send-390px.png"), full_page=True)

    page.locator("[data-confirm]").click()
    page.wait_for_url(f"{live_server.url}/messages/")
    notice = page.locator(".messages li").inner_text()
    with shop_scope(shop):
        queued = OutboxMessage.objects.for_shop(shop).count()
    assert queued > 0
    assert (
        notice
        == f"{queued:,}건을 보낼 메시지함에 넣었어요. 보내기 직전에 한 번 더 법적 확인을 해요."
    )
    assert page.locator(".outbox li").count() >= 1
    _fits(page)
    page.screenshot(path=str(artifacts / "message-outbox-after-send-390px.png"), full_page=True)
