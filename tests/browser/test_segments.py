"""On a phone, the owner builds "2 or more visits in the last 30 days" without typing any JSON,
watches the live count follow the form, saves it and lands on the segment page."""

from __future__ import annotations

import re

from django.utils import timezone

from dangol.core.tenancy import shop_scope
from dangol.demo.services import demo_shop_seed
from dangol.scoring.services import shop_score
from dangol.segments.models import Segment
from dangol.segments.selectors import segment_preview
from dangol.shops.services import owner_create

RULE = {"all": [{"condition": "visits", "op": "gte", "value": 2, "days": 30}]}


def _count(page) -> str:
    return page.locator("#preview [data-preview-count]").get_attribute("data-preview-count")


def _wait_count(page, expected: int) -> None:
    page.wait_for_function(
        "n => { const el = document.querySelector('#preview [data-preview-count]');"
        " return el && el.dataset.previewCount === String(n); }",
        arg=expected,
        timeout=10_000,
    )


def _settled(page) -> None:
    """Wait until htmx has finished every request and bound its handlers to swapped-in content.

    New content carries the ``htmx-added`` class until htmx processes it; before that a change
    on a new select reaches only the form (the live count), not the select's own redraw."""
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-added, .htmx-request, .htmx-settling, .htmx-swapping')",
        timeout=10_000,
    )


def test_owner_builds_a_segment_on_a_phone(live_server, phone_page, artifacts):
    shop = demo_shop_seed(slug="demo", customers=150, months=6, seed=3, end=timezone.localdate())
    owner_create(shop=shop, username="owner", password="demo-password-123")
    with shop_scope(shop):
        shop_score(shop=shop)
        expected = segment_preview(shop=shop, rule=RULE).count
        three = segment_preview(shop=shop, rule={"all": [{**RULE["all"][0], "value": 3}]}).count
    assert expected > 0 and three < expected

    page = phone_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("아이디").fill("owner")
    page.get_by_label("비밀번호").fill("demo-password-123")
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="세그먼트").first.click()
    page.wait_for_url(f"{live_server.url}/segments/")
    assert page.get_by_role("heading", name="기본 세그먼트").is_visible()
    page.get_by_role("button", name="지금 계산하기").click()
    page.wait_for_selector(".messages li")
    with shop_scope(shop):
        vip = Segment.objects.for_shop(shop).get(builtin_key="vip")
    assert vip.member_count == expected  # the built-in VIP is the same rule
    vip_count = page.locator(f'[data-segment="{vip.pk}"] .count').inner_text()
    assert vip_count == f"{expected:,}명"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "segments-list-390px.png"), full_page=True)

    page.get_by_role("link", name="+ 새 세그먼트").click()
    page.wait_for_url(f"{live_server.url}/segments/new/")
    page.wait_for_selector("#preview [data-preview-count]")
    assert _count(page) == ""  # no condition yet

    page.get_by_label("이름", exact=True).fill("한 달에 두 번")
    page.get_by_label("조건", exact=True).select_option(label="방문 횟수")
    page.wait_for_selector('input[name="c-0-value"]')
    _settled(page)
    page.select_option('select[name="c-0-op"]', "gte")
    page.fill('input[name="c-0-value"]', "3")
    page.fill('input[name="c-0-days"]', "30")
    _wait_count(page, three)
    page.fill('input[name="c-0-value"]', "2")
    _wait_count(page, expected)
    shown = page.locator("#preview .value").inner_text()
    assert shown == f"{expected:,}명"
    assert page.locator("#preview .sample a").count() == min(5, expected)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "segment-builder-390px.png"), full_page=True)

    # a value over the maximum is marked next to the field, live
    page.fill('input[name="c-0-days"]', "99999")
    page.wait_for_selector("#err-c-0-days .error", timeout=10_000)
    assert "3650 이하" in page.locator("#err-c-0-days").inner_text()
    page.fill('input[name="c-0-days"]', "30")
    _wait_count(page, expected)

    # a second row narrows the count; removing it brings the count back
    page.get_by_role("button", name="+ 조건 추가").click()
    page.wait_for_selector('select[name="c-1-condition"]')
    _settled(page)
    page.select_option('select[name="c-1-condition"]', "days_since_last_visit")
    page.wait_for_selector('input[name="c-1-value"]')
    _settled(page)
    page.fill('input[name="c-1-value"]', "400")  # nobody: six months of history
    _wait_count(page, 0)
    page.locator("#row-1").get_by_role("button", name="삭제").click()
    page.wait_for_selector('select[name="c-1-condition"]', state="detached")
    _wait_count(page, expected)

    page.get_by_role("button", name="저장", exact=True).last.click()
    page.wait_for_url(re.compile(r"/segments/\d+/$"))
    segment_id = int(re.search(r"/segments/(\d+)/$", page.url).group(1))
    with shop_scope(shop):
        saved = Segment.objects.for_shop(shop).get(pk=segment_id)
    assert saved.rule == RULE and saved.name == "한 달에 두 번"
    assert page.get_by_role("heading", name="한 달에 두 번").is_visible()
    assert "최근 30일 방문 2회 이상" in page.locator(".rule-sentence").inner_text()
    members = page.locator("[data-member-count]").get_attribute("data-member-count")
    assert int(members) == expected
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # "why is this customer here", expanded in place
    page.locator(".why-link").first.click()
    page.wait_for_selector(".why-inline .why")
    assert "✓" in page.locator(".why-inline .why").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "segment-page-390px.png"), full_page=True)
