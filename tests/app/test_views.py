"""Owner pages: login, KPIs from real data, search, the customer page and the customer form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dangol.core.tenancy import shop_scope
from dangol.customers.models import Customer
from dangol.customers.resolution import customer_resolve
from dangol.sales.selectors import home_kpis
from dangol.scoring.services import shop_score
from tests.app.factories import make_customer, make_purchases


def test_login_page_is_korean_and_logs_in(client, two_shops):
    page = client.get(reverse("web:login"))
    assert page.status_code == 200
    assert "로그인" in page.content.decode()
    response = client.post(
        reverse("web:login"), {"username": "owner-alpha", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    home = client.get(reverse("web:home"))
    assert "재방문율" in home.content.decode()


def test_login_is_rate_limited(client, two_shops):
    url = reverse("web:login")
    for _ in range(10):
        assert client.post(url, {"username": "owner-alpha", "password": "wrong"}).status_code == 200
    blocked = client.post(url, {"username": "owner-alpha", "password": "correct horse battery"})
    assert blocked.status_code == 429
    assert not client.session.get("_auth_user_id")


def test_guessing_one_login_from_many_addresses_locks_it(client, two_shops):
    url = reverse("web:login")
    for n in range(30):  # three failures each from ten addresses: under the per-address limit
        wrong = {"username": "owner-alpha", "password": f"guess-{n}"}
        assert client.post(url, wrong, REMOTE_ADDR=f"203.0.113.{n // 3}").status_code == 200
    right = {"username": "owner-alpha", "password": "correct horse battery"}
    assert client.post(url, right, REMOTE_ADDR="198.51.100.7").status_code == 429
    assert not client.session.get("_auth_user_id")
    # Another account is not affected.
    other = {"username": "owner-beta", "password": "correct horse battery"}
    assert client.post(url, other, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_pages_need_login(client, two_shops):
    for name in ("web:home", "web:customers"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_home_kpis_match_the_data(two_shops):
    a = two_shops.a
    # alpha: customer with purchases 1, 8 and 40 days ago; add a new customer and a walk-in.
    newcomer = make_customer(a.shop, name="이서연")
    make_purchases(a.shop, a.store, a.product, newcomer, days_ago=[3], amount_qty=2)
    make_purchases(a.shop, a.store, a.product, None, days_ago=[5, 45])
    kpis = home_kpis(shop=a.shop)
    assert kpis.customers == 2
    assert kpis.visits_30d == 4  # 1, 8 (김민지), 3 (이서연), 5 (walk-in)
    assert kpis.active_customers_30d == 2
    assert kpis.returning_customers_30d == 1  # only 김민지 came before the window
    assert kpis.revisit_rate == pytest.approx(0.5)
    assert kpis.average_ticket == round((4500 + 4500 + 9000 + 4500) / 4)
    assert sum(n for _, n in kpis.weekly_visits) == 6  # within 12 weeks: 1, 8, 40, 3, 5, 45


def test_home_shows_kpis(client, two_shops):
    client.force_login(two_shops.a.owner)
    body = client.get(reverse("web:home")).content.decode()
    assert 'data-kpi="customers"' in body and "1명" in body
    assert "<svg" in body


def test_customer_search_by_name_and_last4(client, two_shops):
    a = two_shops.a
    make_customer(a.shop, name="최지우", phone="010-9876-5432")
    client.force_login(a.owner)
    body = client.get(reverse("web:customers"), {"q": "지우"}).content.decode()
    assert "최지우" in body and "김민지" not in body
    partial = client.get(reverse("web:customers"), {"q": "2222"}, HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert "김민지" in text and "최지우" not in text and "<html" not in text
    assert "010-****-2222" in text


def test_customer_page_shows_timeline_and_consents(client, two_shops):
    client.force_login(two_shops.a.owner)
    body = client.get(reverse("web:customer", args=[two_shops.a.customer.pk])).content.decode()
    assert "김민지" in body
    assert "010-1111-2222" in body  # the owner sees the whole number
    assert body.count('class="paid"') == 3
    assert "아메리카노" in body


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12345", "올바른 전화번호"),
        ("phone", "<script>alert(1)</script>", 'id="id_phone-error"'),
        ("name", "", 'id="id_name-error"'),
        ("birthday", "2025-02-30", "날짜"),
        ("email", "not-an-email", "이메일"),
    ],
)
def test_customer_form_rejects_bad_input(client, two_shops, field, value, message):
    client.force_login(two_shops.a.owner)
    data = {"name": "홍길동", "phone": "010-2468-1357", "birthday_calendar": "solar", field: value}
    response = client.post(reverse("web:customer_new"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "<script>alert(1)</script>" not in body


def test_customer_form_duplicate_phone_and_success(client, two_shops):
    client.force_login(two_shops.a.owner)
    url = reverse("web:customer_new")
    # A known phone opens the known customer instead of making a duplicate.
    dup = client.post(
        url, {"name": "홍길동", "phone": "010 1111 2222", "birthday_calendar": "solar"}
    )
    assert dup.status_code == 302
    assert dup["Location"] == reverse("web:customer", args=[two_shops.a.customer.pk])
    assert "이미 등록된 고객입니다" in client.get(dup["Location"]).content.decode()
    ok = client.post(
        url,
        {
            "name": "홍길동",
            "phone": "010-2468-1357",
            "birthday": "1988-03-01",
            "birthday_calendar": "lunar",
        },
    )
    assert ok.status_code == 302
    detail = client.get(ok["Location"]).content.decode()
    assert "홍길동" in detail and "음력" in detail


def test_main_pages_have_bounded_queries(client, two_shops, django_assert_max_num_queries):
    a = two_shops.a
    for i in range(30):
        c = make_customer(a.shop, name=f"손님{i}")
        make_purchases(a.shop, a.store, a.product, c, days_ago=[i + 1, i + 20])
    with shop_scope(a.shop):
        shop_score(shop=a.shop)
    client.force_login(a.owner)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("web:customers")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("web:home")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("web:customer", args=[a.customer.pk])).status_code == 200


def test_english_is_available(client, two_shops):
    client.force_login(two_shops.a.owner)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("web:home")).content.decode()
    assert "Revisit rate" in body


def test_timestamps_show_in_seoul_time(client, two_shops):
    a = two_shops.a
    c = make_customer(a.shop, name="정하늘")
    from dangol.sales.services import LineInput, PurchaseInput, purchase_bulk_create

    utc_moment = dt.datetime(2025, 8, 11, 1, 6, tzinfo=dt.UTC)  # 10:06 in Seoul
    purchase_bulk_create(
        shop=a.shop,
        rows=[
            PurchaseInput(
                store_id=a.store.pk,
                customer_id=c.pk,
                source="pos",
                external_id="TZ-1",
                occurred_at=utc_moment,
                lines=[
                    LineInput(product=a.product, name="아메리카노", quantity=1, unit_price=4500)
                ],
            )
        ],
    )
    client.force_login(a.owner)
    body = client.get(reverse("web:customer", args=[c.pk])).content.decode()
    assert "2025.08.11" in body and "10:06" in body
    assert timezone.get_current_timezone_name() == "Asia/Seoul"


def test_customer_form_known_email_attaches_the_phone_and_two_customers_conflict(client, two_shops):
    shop, minji = two_shops.a.shop, two_shops.a.customer
    client.force_login(two_shops.a.owner)
    url = reverse("web:customer_new")
    with shop_scope(shop):
        count = Customer.objects.count()
    known = client.post(
        url,
        {
            "name": "김민지",
            "phone": "010-9999-0000",
            "email": "MINJI@example.com",
            "birthday_calendar": "solar",
        },
    )
    assert known.status_code == 302
    assert known["Location"] == reverse("web:customer", args=[minji.pk])
    with shop_scope(shop):
        assert Customer.objects.count() == count
        # The new phone is now one of her identities.
        assert customer_resolve(shop=shop, phone="010-9999-0000").customer.pk == minji.pk
    other = make_customer(shop, name="이서연", phone="010-5555-6666")
    clash = client.post(
        url,
        {
            "name": "이서연",
            "phone": "010-5555-6666",
            "email": "minji@example.com",
            "birthday_calendar": "solar",
        },
    )
    assert clash.status_code == 200
    assert "서로 다른 고객" in clash.content.decode()
    with shop_scope(shop):
        assert Customer.objects.count() == count + 1
        assert Customer.objects.get(pk=other.pk).merged_into is None
