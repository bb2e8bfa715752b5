"""On a phone at the counter, staff type a customer's coupon code, see it accepted with its
value, then type it again and see that it was already used."""

from __future__ import annotations

from dangol.loyalty.coupons import CouponTemplateInput, coupon_issue, coupon_template_create
from dangol.loyalty.models import Coupon, CouponStatus
from tests.app.loyalty_helpers import loyalty_shop


def _settled(page) -> None:
    """Wait until htmx has finished every request and settled the swapped-in content."""
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-added, .htmx-request, .htmx-settling, .htmx-swapping')",
        timeout=10_000,
    )


def test_staff_redeem_a_coupon_twice_on_a_phone(live_server, phone_page, artifacts):
    w = loyalty_shop("brw")
    template = coupon_template_create(
        shop=w.shop,
        data=CouponTemplateInput(name="아메리카노 3천원 할인", kind="amount", value=3000),
    )
    coupon = coupon_issue(shop=w.shop, template=template, customer=w.customer)

    page = phone_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("아이디").fill("staff-brw")
    page.get_by_label("비밀번호").fill("pw-staff-123")
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/loyalty/redeem/")
    field = page.locator("#id_code")
    assert field.bounding_box()["height"] >= 44  # big enough for a thumb
    # Typed as a customer reads it out: lower case, with a space.
    field.fill(f"{coupon.code[:5].lower()} {coupon.code[5:]}")
    page.locator(".redeem-form button[type=submit]").click()
    page.wait_for_selector('#redeem-result [data-result="ok"]', timeout=10_000)
    _settled(page)
    result = page.locator("#redeem-result").inner_text()
    assert "아메리카노 3천원 할인" in result and "3,000원" in result
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.REDEEMED and coupon.redeemed_by == w.staff
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "loyalty-redeem-ok-390px.png"), full_page=True)

    field.fill(coupon.code)
    page.locator(".redeem-form button[type=submit]").click()
    page.wait_for_selector(
        '#redeem-result [data-result="refused"][data-reason="already_redeemed"]', timeout=10_000
    )
    _settled(page)
    assert "이미 사용한 쿠폰이에요" in page.locator("#redeem-result").inner_text()
    assert Coupon.objects.for_shop(w.shop).filter(status=CouponStatus.REDEEMED).count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "loyalty-redeem-already-used-390px.png"), full_page=True)
