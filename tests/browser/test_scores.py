"""On a phone, the owner sees who is slipping away and why, in Korean."""

from __future__ import annotations

import re

from django.utils import timezone

from dangol.core.tenancy import shop_scope
from dangol.demo.services import demo_shop_seed
from dangol.scoring.models import CustomerScore
from dangol.scoring.selectors import risk_summary
from dangol.scoring.services import shop_score
from dangol.shops.services import owner_create


def test_owner_sees_risk_and_reasons_on_a_phone(live_server, phone_page, artifacts):
    shop = demo_shop_seed(slug="demo", customers=300, months=12, seed=8, end=timezone.localdate())
    owner_create(shop=shop, username="owner", password="demo-password-123")
    with shop_scope(shop):
        shop_score(shop=shop)
        summary = risk_summary(shop=shop)
    page = phone_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("아이디").fill("owner")
    page.get_by_label("비밀번호").fill("demo-password-123")
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(f"{live_server.url}/")

    at_risk = page.locator('[data-kpi="at-risk"] .value').inner_text()
    assert at_risk == f"{summary.winnable:,}명"
    revenue = page.locator('[data-kpi="revenue-at-risk"] .value').inner_text()
    assert revenue == f"{summary.value_at_risk:,}원"
    assert page.locator(".status-bar rect").count() >= 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "home-risk-390px.png"), full_page=True)

    first = page.locator(".contact a").first
    reason = first.locator(".meta").first.inner_text()
    assert re.search(r"[가-힣]", reason)
    first.click()
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    assert page.get_by_role("heading", name="전망").is_visible()
    assert page.locator(".prediction .reasons li").first.inner_text() == reason
    customer_id = int(re.search(r"/customers/(\d+)/$", page.url).group(1))
    with shop_scope(shop):
        score = CustomerScore.objects.for_shop(shop).get(customer_id=customer_id)
    percent = page.locator(".prediction .percent").inner_text()
    assert percent == f"{round(score.churn_probability * 100)}%"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "customer-outlook-390px.png"), full_page=True)
