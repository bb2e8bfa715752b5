"""The counter tablet in landscape (1024x768): the owner's one-time link pairs it, a first-time
customer types a number on the pad, agrees on the consent screen and sees the stamp; a lost
answer is retried with the same tap key and still stamps once. Then the customer's own page at
phone width, where an advertising consent is withdrawn."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dangol.core.tenancy import shop_scope
from dangol.customers.models import ConsentEvent
from dangol.customers.selectors import customer_find_by_phone
from dangol.customers.services import ConsentInput, consent_record
from dangol.loyalty.checkin import checkin_device_create, customer_page_token
from dangol.loyalty.coupons import CouponTemplateInput, coupon_template_create
from dangol.loyalty.models import CouponSource
from dangol.loyalty.selectors import stamp_progress
from dangol.loyalty.services import (
    PolicyInput,
    StampCardInput,
    coupon_issue,
    points_policy_create,
    stamp_card_create,
)
from tests.app.factories import make_customer, make_shop
from tests.browser.test_segments import _settled

PHONE = "01098765432"


@pytest.fixture
def tablet_page(browser):
    context = browser.new_context(
        viewport={"width": 1024, "height": 768}, has_touch=True, locale="ko-KR"
    )
    page = context.new_page()
    yield page
    context.close()


def _shop():
    shop, store, owner, coffee = make_shop("kiosk")
    reward = coupon_template_create(
        shop=shop,
        data=CouponTemplateInput(name="아메리카노 1잔", kind="free_item", product_id=coffee.pk),
    )
    card = stamp_card_create(
        shop=shop,
        data=StampCardInput(
            name="커피 도장", stamps_required=10, mode="visit", reward_template_id=reward.pk
        ),
    )
    points_policy_create(shop=shop, data=PolicyInput(points_per_visit=100), user=owner)
    _device, code = checkin_device_create(
        shop=shop, store=store, name="카운터", staff_pin="2468", user=owner
    )
    return shop, card, reward, code


def _stamps(shop, card, customer) -> int:
    with shop_scope(shop):
        return {p.card.pk: p.stamps for p in stamp_progress(shop=shop, customer=customer)}[card.pk]


def _type(page, digits: str) -> None:
    for d in digits:
        page.locator(f'[data-digit="{d}"]').tap()


def test_tablet_first_visit_consent_stamp_and_retry(live_server, tablet_page, artifacts):
    shop, card, _reward, code = _shop()
    page = tablet_page
    page.goto(live_server.url + reverse("web:checkin_pair", args=[code]))
    page.locator("[data-pair]").click()
    page.wait_for_url(f"{live_server.url}/kiosk/")
    page.wait_for_selector('[data-screen="pad"]')

    # Touch targets of 48 px and more, nothing wider than the screen.
    for box in [k.bounding_box() for k in page.locator(".kiosk-keys button").all()]:
        assert box["width"] >= 48 and box["height"] >= 48
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024

    _type(page, "0101")
    page.locator("[data-back]").tap()
    page.locator("[data-clear]").tap()
    _type(page, PHONE)
    assert page.locator("[data-phone-input]").input_value() == "010-9876-5432"
    page.screenshot(path=str(artifacts / "checkin-pad-1024.png"))
    page.locator("[data-go]").tap()
    page.wait_for_selector('[data-screen="consent"]')
    _settled(page)

    # Separate, unticked boxes; without the required one the service is refused, kindly.
    boxes = page.locator('input[type="checkbox"]')
    assert boxes.count() == 5
    assert all(not boxes.nth(i).is_checked() for i in range(5))
    assert page.evaluate("document.documentElement.scrollHeight") <= 768 + 40
    page.screenshot(path=str(artifacts / "checkin-consent-1024.png"), full_page=True)
    page.locator('[data-consent="ad_kakao"]').check()
    page.locator("[data-join]").tap()
    page.wait_for_selector("[data-error]")
    _settled(page)
    assert page.locator('[data-consent="ad_kakao"]').is_checked()
    page.locator('[data-consent="pipa_collection"]').check()
    page.locator("[data-join]").tap()
    page.wait_for_selector('[data-screen="result"]')
    _settled(page)
    assert page.locator("[data-stamps-added]").get_attribute("data-stamps-added") == "1"
    assert page.locator("[data-balance]").get_attribute("data-balance") == "100"
    assert page.locator("[data-masked-phone]").inner_text() == "010-****-5432"
    page.screenshot(path=str(artifacts / "checkin-result-1024.png"))
    with shop_scope(shop):
        customer = customer_find_by_phone(shop=shop, phone=PHONE)
        kinds = sorted(
            ConsentEvent.objects.filter(customer=customer).values_list("kind", flat=True)
        )
    assert kinds == ["ad_kakao", "pipa_collection"]
    assert _stamps(shop, card, customer) == 1

    # Back to the pad by itself after a few seconds.
    page.wait_for_selector('[data-screen="pad"]', timeout=15_000)
    assert page.locator("[data-phone-input]").input_value() == ""

    # Next day's visit (the rule is once a day): the answer is lost on the way back; the page
    # keeps the number, and the retry sends the same tap key, so there is still one stamp.
    from dangol.loyalty.models import Checkin

    with shop_scope(shop):
        Checkin.objects.filter(customer=customer).update(
            occurred_at=Checkin.objects.get(customer=customer).occurred_at.replace(year=2025)
        )
    lost = []

    def drop_answer(route):
        route.fetch()  # the server does the check-in…
        lost.append(1)
        route.abort()  # …and the tablet never hears about it

    page.route("**/kiosk/checkin/", drop_answer)
    _type(page, PHONE)
    page.locator("[data-go]").tap()
    page.wait_for_selector("[data-net-error]:not([hidden])")
    assert lost and page.locator("[data-phone-input]").input_value() == "010-9876-5432"
    page.screenshot(path=str(artifacts / "checkin-retry-1024.png"))
    assert _stamps(shop, card, customer) == 2
    page.unroute("**/kiosk/checkin/")
    page.locator("[data-retry]").tap()
    page.wait_for_selector('[data-screen="result"]')
    assert page.locator("[data-stamp-count]").first.get_attribute("data-stamp-count") == "2"
    assert _stamps(shop, card, customer) == 2


def test_customer_page_on_a_phone(live_server, phone_page, artifacts):
    shop, _card, reward, _code = _shop()
    with shop_scope(shop):
        customer = make_customer(shop, name="정하늘", phone="010-3456-7890")
        coupon = coupon_issue(
            shop=shop, template=reward, customer=customer, source=CouponSource.MANUAL
        )
        for kind in ("pipa_collection", "ad_sms", "ad_kakao"):
            consent_record(
                customer=customer, data=ConsentInput(kind=kind, granted=True, source="tablet")
            )
    token = customer_page_token(shop_id=shop.pk, customer_id=customer.pk)
    page = phone_page
    page.goto(live_server.url + reverse("web:customer_page", args=[token]))
    assert page.locator("[data-coupon] .coupon-code").inner_text() == coupon.code
    assert page.locator("[data-stamp-count]").get_attribute("data-stamp-count") == "0"
    assert "정하늘" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "checkin-me-390.png"), full_page=True)

    page.locator('[data-consent="ad_kakao"] button').click()
    page.wait_for_selector("[data-done]")
    assert page.locator('[data-consent="ad_kakao"]').get_attribute("data-granted") == "0"
    assert page.locator('[data-consent="ad_sms"]').get_attribute("data-granted") == "1"
    page.screenshot(path=str(artifacts / "checkin-me-unsubscribed-390.png"), full_page=True)
    with shop_scope(shop):
        last = ConsentEvent.objects.filter(customer=customer, kind="ad_kakao").latest("pk")
    assert not last.granted and last.source == "unsubscribe"
