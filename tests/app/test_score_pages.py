"""The owner sees the scores: at-risk count and revenue at risk at home, the outlook with
plain-language reasons on the customer page, in Korean and in English."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from dangol.core.tenancy import shop_scope
from dangol.scoring.models import CustomerStatus
from dangol.scoring.selectors import customer_score_get, risk_summary
from dangol.scoring.services import shop_score
from tests.app.factories import make_customer, make_purchases, make_shop


@pytest.fixture
def scored_shop(db):
    shop, store, owner, product = make_shop("scored")
    for i in range(12):
        regular = make_customer(shop, name=f"단골{i}")
        make_purchases(shop, store, product, regular, days_ago=[1 + 7 * k for k in range(10)])
    broken = make_customer(shop, name="목요일손님")
    make_purchases(shop, store, product, broken, days_ago=[21 + 7 * k for k in range(8)])
    gone = make_customer(shop, name="떠난손님")
    make_purchases(shop, store, product, gone, days_ago=[120 + 7 * k for k in range(6)])
    with shop_scope(shop):
        shop_score(shop=shop)
    return shop, owner, broken, gone


def _number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_home_shows_at_risk_count_and_revenue(client, scored_shop):
    shop, owner, broken, _gone = scored_shop
    with shop_scope(shop):
        summary = risk_summary(shop=shop)
        assert customer_score_get(shop=shop, customer=broken).status == CustomerStatus.BROKEN_HABIT
    assert summary.winnable >= 1 and summary.value_at_risk > 0
    client.force_login(owner)
    body = client.get(reverse("web:home")).content.decode()
    at_risk = re.search(r'data-kpi="at-risk">.*?<p class="value">([^<]+)</p>', body, re.S)
    revenue = re.search(r'data-kpi="revenue-at-risk">.*?<p class="value">([^<]+)</p>', body, re.S)
    assert _number(at_risk.group(1)) == summary.winnable
    assert _number(revenue.group(1)) == summary.value_at_risk
    assert "오늘 연락해 볼 손님" in body and "목요일손님" in body
    assert reverse("web:customer", args=[broken.pk]) in body


def test_customer_page_shows_outlook_and_korean_reasons(client, scored_shop):
    _shop, owner, broken, gone = scored_shop
    client.force_login(owner)
    body = client.get(reverse("web:customer", args=[broken.pk])).content.decode()
    assert "전망" in body and "습관 깨짐" in body
    assert re.search(r"매주 .요일에 오시던 분인데 \d번 연속 오지 않으셨어요", body)
    assert "보통 7일마다 오시는데 21일째 방문이 없어요" in body
    assert "추천 행동" in body
    gone_body = client.get(reverse("web:customer", args=[gone.pk])).content.decode()
    assert "이탈" in gone_body and "120일째" in gone_body


def test_reasons_follow_the_page_language(client, scored_shop):
    _shop, owner, broken, _gone = scored_shop
    client.force_login(owner)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("web:customer", args=[broken.pk])).content.decode()
    assert "Outlook" in body and "Usually visits every 7 days; no visit for 21 days" in body
    home = client.get(reverse("web:home")).content.decode()
    assert "Revenue at risk" in home and "Who to contact today" in home


def test_before_the_first_scoring_the_home_page_says_so(client, db):
    _shop, _store, owner, _product = make_shop("fresh")
    client.force_login(owner)
    body = client.get(reverse("web:home")).content.decode()
    assert "아직 점수가 없어요" in body


def test_customer_list_filters_by_status(client, scored_shop):
    _shop, owner, _broken, _gone = scored_shop
    client.force_login(owner)
    body = client.get(reverse("web:customers"), {"status": "winnable"}).content.decode()
    assert "목요일손님" in body and "떠난손님" not in body and "단골0" not in body
    lapsed = client.get(reverse("web:customers"), {"status": "lapsed"}).content.decode()
    assert "떠난손님" in lapsed and "목요일손님" not in lapsed
    everyone = client.get(reverse("web:customers")).content.decode()
    assert "목요일손님" in everyone and "떠난손님" in everyone
    assert 'class="tag s-broken_habit"' in everyone
    # An unknown status is ignored rather than an error.
    assert client.get(reverse("web:customers"), {"status": "<script>"}).status_code == 200


def test_api_returns_the_latest_score(client, scored_shop, two_shops):
    _shop, owner, broken, _gone = scored_shop
    client.force_login(owner)
    data = client.get(f"/api/v1/customers/{broken.pk}").json()
    assert data["score"]["status"] == "broken_habit"
    assert 0 <= data["score"]["churn_probability"] <= 1
    assert data["score"]["reasons"][0]["ko"] and data["score"]["reasons"][0]["en"]
    # Unscored customers have no score yet; other shops' customers stay invisible.
    client.force_login(two_shops.a.owner)
    assert client.get(f"/api/v1/customers/{two_shops.a.customer.pk}").json()["score"] is None
    assert client.get(f"/api/v1/customers/{broken.pk}").status_code == 404


def test_admin_shows_only_the_own_shops_runs(client, scored_shop, two_shops):
    with shop_scope(two_shops.a.shop):
        shop_score(shop=two_shops.a.shop)
    owner = two_shops.a.owner
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    page = client.get(reverse("admin:scoring_scoringrun_changelist"))
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
