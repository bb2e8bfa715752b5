"""A shop owner on a phone (390 px wide) logs in and sees the demo shop's KPIs in Korean."""

from __future__ import annotations

import re

from django.utils import timezone

from dangol.demo.services import demo_shop_seed
from dangol.shops.services import owner_create


def test_owner_logs_in_on_a_phone_and_sees_korean_kpis(live_server, phone_page, artifacts):
    shop = demo_shop_seed(slug="demo", customers=150, months=6, seed=3, end=timezone.localdate())
    owner_create(shop=shop, username="owner", password="demo-password-123")
    page = phone_page
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.get_by_label("아이디").fill("owner")
    page.get_by_label("비밀번호").fill("demo-password-123")
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(f"{live_server.url}/")

    for title in ("고객", "최근 30일 방문", "재방문율", "객단가"):
        assert page.get_by_role("heading", name=title, exact=True).is_visible()
    customers_value = page.locator('[data-kpi="customers"] .value').inner_text()
    assert customers_value == "150명"
    visits = page.locator('[data-kpi="visits"] .value').inner_text()
    assert re.fullmatch(r"[\d,]+회", visits) and visits != "0회"
    assert re.fullmatch(r"\d+%", page.locator('[data-kpi="revisit"] .value').inner_text())
    assert page.locator('[data-kpi="ticket"] .value').inner_text().endswith("원")
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "home-390px.png"), full_page=True)

    page.get_by_role("link", name="고객").first.click()
    page.wait_for_url(f"{live_server.url}/customers/")
    first = page.locator(".list a").first
    name = first.locator("strong").inner_text()
    first.click()
    assert page.get_by_role("heading", name=name).is_visible()
    assert page.get_by_role("heading", name="구매 기록").is_visible()
    page.screenshot(path=str(artifacts / "customer-390px.png"), full_page=True)


def test_live_search_narrows_the_list(live_server, phone_page):
    shop = demo_shop_seed(slug="demo", customers=40, months=3, seed=5, end=timezone.localdate())
    owner_create(shop=shop, username="owner", password="demo-password-123")
    page = phone_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("아이디").fill("owner")
    page.get_by_label("비밀번호").fill("demo-password-123")
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/customers/")
    total = page.locator(".list li").count()
    last4 = page.locator(".list .muted").first.inner_text()[-4:]
    page.get_by_role("searchbox").fill(last4)
    page.wait_for_function(
        "n => document.querySelectorAll('.list li').length < n", arg=total, timeout=5000
    )
    assert all(t.endswith(last4) for t in page.locator(".list .muted").all_inner_texts())
