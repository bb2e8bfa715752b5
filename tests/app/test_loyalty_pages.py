"""Loyalty owner pages: the overview, the settings forms (a points policy change is a new
version), the staff's redemption screen with a specific reason for each refusal, roles, and
another shop's ids."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dangol.loyalty.coupons import (
    CouponTemplateInput,
    coupon_issue,
    coupon_redeem,
    coupon_template_create,
)
from dangol.loyalty.models import (
    Coupon,
    CouponStatus,
    CouponTemplate,
    PointsPolicy,
    ReferralProgram,
    ReferralStatus,
    StampCard,
)
from dangol.loyalty.referrals import referral_code_issue, referral_program_set, referral_register
from dangol.loyalty.selectors import points_policy_at
from dangol.loyalty.stamps import StampCardInput, stamp_card_create
from dangol.loyalty.tiers import tier_create
from tests.app.factories import make_customer
from tests.app.loyalty_helpers import loyalty_shop, simple_policy


@pytest.fixture
def w(db):
    w = loyalty_shop("lp")
    w.template = coupon_template_create(
        shop=w.shop, data=CouponTemplateInput(name="3천원 할인", kind="amount", value=3000)
    )
    return w


@pytest.fixture
def owner(client, w):
    client.force_login(w.owner)
    return client


@pytest.fixture
def staff(client, w):
    client.force_login(w.staff)
    return client


def _issue(w, **kwargs):
    return coupon_issue(shop=w.shop, template=w.template, customer=w.customer, **kwargs)


# --- the overview ----------------------------------------------------------------------------


def test_overview_shows_policy_history_cards_tiers_coupons_and_referrals(owner, w):
    t0 = timezone.now() - dt.timedelta(days=10)
    simple_policy(w, at=t0, rate_bp=300)
    simple_policy(w, at=t0 + dt.timedelta(days=1), rate_bp=500)
    stamp_card_create(
        shop=w.shop,
        data=StampCardInput(
            name="커피 10잔", stamps_required=10, mode="visit", reward_template_id=w.template.pk
        ),
    )
    tier_create(shop=w.shop, name="골드", level=1, threshold=100_000)
    redeemed = _issue(w)
    coupon_redeem(shop=w.shop, code=redeemed.code, amount=20_000)
    _issue(w)
    referral_program_set(shop=w.shop, referrer_points=500, daily_limit=1)
    html = owner.get(reverse("web:loyalty")).content.decode()
    assert "data-earn-pct>5%" in html
    assert "v2" in html and "v1" in html  # the history
    assert "이전에 적립된 포인트는 원래 규칙과 유효기간을 유지해요" in html
    assert "커피 10잔" in html and "골드" in html
    row = html[html.index(f'data-template="{w.template.pk}"') :]
    assert 'class="issued">2<' in row and 'class="redeemed">1<' in row
    assert 'class="cost">3,000원<' in row and 'class="sales">20,000원' in row
    assert "500P" in html
    assert 'href="/loyalty/"' in html  # the nav links here


def test_held_referrals_are_listed_for_the_owner_to_review(owner, w):
    referral_program_set(shop=w.shop, referrer_points=500, daily_limit=1)
    code = referral_code_issue(shop=w.shop, customer=w.customer).code
    referral_register(shop=w.shop, referee=make_customer(w.shop, name="첫친구"), code=code)
    held = referral_register(shop=w.shop, referee=make_customer(w.shop, name="둘친구"), code=code)
    assert held.status == ReferralStatus.HELD
    html = owner.get(reverse("web:loyalty")).content.decode()
    assert f'data-referral="{held.pk}"' in html
    url = reverse("web:loyalty_referral_review", args=[held.pk])
    assert owner.post(url, {"decision": "reject"}).status_code == 302
    held.refresh_from_db()
    assert held.status == ReferralStatus.REJECTED


def test_the_overview_works_for_a_new_shop(staff, w):
    response = staff.get(reverse("web:loyalty"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "아직 포인트 정책이 없어요" in html
    # staff see no settings buttons
    assert reverse("web:loyalty_policy") not in html
    assert reverse("web:loyalty_redeem") in html


def test_anonymous_visitors_go_to_the_login(client, db):
    response = client.get(reverse("web:loyalty_redeem"))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- the settings forms ----------------------------------------------------------------------


def test_changing_the_points_policy_makes_a_new_version(owner, w):
    simple_policy(w, at=timezone.now() - dt.timedelta(days=3), rate_bp=300)
    page = owner.get(reverse("web:loyalty_policy")).content.decode()
    assert "원래 규칙과 유효기간을 그대로 유지해요" in page and 'value="3' in page
    response = owner.post(
        reverse("web:loyalty_policy"),
        {"earn_rate": "2.5", "points_per_visit": "10", "min_amount": "0", "validity_months": "6"},
    )
    assert response.status_code == 302
    versions = list(PointsPolicy.objects.for_shop(w.shop).order_by("version"))
    assert [(p.version, p.earn_rate_bp, p.validity_months) for p in versions] == [
        (1, 300, 12),
        (2, 250, 6),
    ]
    assert points_policy_at(shop=w.shop).version == 2


@pytest.mark.parametrize(
    "data",
    [
        {"earn_rate": "51", "points_per_visit": "0", "min_amount": "0", "validity_months": "12"},
        {"earn_rate": "1", "points_per_visit": "-1", "min_amount": "0", "validity_months": "12"},
        {"earn_rate": "abc", "points_per_visit": "0", "min_amount": "0", "validity_months": "12"},
        {"earn_rate": "1", "points_per_visit": "0", "min_amount": "0", "validity_months": "0"},
        {},
    ],
)
def test_a_bad_policy_is_refused_and_changes_nothing(owner, w, data):
    response = owner.post(reverse("web:loyalty_policy"), data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not PointsPolicy.objects.for_shop(w.shop).exists()


def test_only_the_owner_changes_points_and_referrals(staff, w):
    for name in ("web:loyalty_policy", "web:loyalty_referrals"):
        assert staff.get(reverse(name)).status_code == 403
    response = staff.post(
        reverse("web:loyalty_policy"),
        {"earn_rate": "5", "points_per_visit": "0", "min_amount": "0", "validity_months": "12"},
    )
    assert response.status_code == 403
    assert not PointsPolicy.objects.for_shop(w.shop).exists()


def test_staff_cannot_change_stamp_cards_or_coupons(staff, w):
    assert staff.get(reverse("web:loyalty_stamps")).status_code == 403
    assert staff.get(reverse("web:loyalty_coupon_new")).status_code == 403
    response = staff.post(
        reverse("web:loyalty_coupon_new"),
        {"name": "몰래", "kind": "amount", "value": "1000", "valid_days": "30"},
    )
    assert response.status_code == 403
    assert not CouponTemplate.objects.for_shop(w.shop).filter(name="몰래").exists()


def test_a_stamp_card_is_started_and_switched_off(owner, w):
    response = owner.post(
        reverse("web:loyalty_stamps"),
        {
            "name": "도장 8개",
            "stamps_required": "8",
            "mode": "visit",
            "min_amount": "0",
            "reward": str(w.template.pk),
        },
    )
    assert response.status_code == 302
    card = StampCard.objects.for_shop(w.shop).get(name="도장 8개")
    assert card.active and card.reward_id == w.template.pk
    assert owner.post(reverse("web:loyalty_stamp_off", args=[card.pk])).status_code == 302
    card.refresh_from_db()
    assert not card.active


def test_a_stamp_card_with_another_shops_coupon_or_too_few_stamps_is_refused(owner, w):
    other = loyalty_shop("lp-other")
    theirs = coupon_template_create(
        shop=other.shop, data=CouponTemplateInput(name="남의 쿠폰", kind="amount", value=1000)
    )
    for data in (
        {"name": "x", "stamps_required": "8", "mode": "visit", "reward": str(theirs.pk)},
        {"name": "x", "stamps_required": "1", "mode": "visit", "reward": str(w.template.pk)},
        {"name": "x", "stamps_required": "8", "mode": "nope", "reward": str(w.template.pk)},
    ):
        response = owner.post(reverse("web:loyalty_stamps"), {"min_amount": "0", **data})
        assert response.status_code == 400
    assert not StampCard.objects.for_shop(w.shop).exists()


def test_a_coupon_template_is_created_and_bad_ones_get_the_reason(owner, w):
    response = owner.post(
        reverse("web:loyalty_coupon_new"),
        {
            "name": "10% 할인",
            "kind": "percent",
            "value": "10",
            "max_discount": "5000",
            "min_spend": "10000",
            "valid_days": "7",
            "per_customer_limit": "1",
        },
    )
    assert response.status_code == 302
    made = CouponTemplate.objects.for_shop(w.shop).get(name="10% 할인")
    assert (made.value, made.max_discount, made.valid_days) == (10, 5000, 7)
    bad = owner.post(
        reverse("web:loyalty_coupon_new"),
        {
            "name": "200%",
            "kind": "percent",
            "value": "200",
            "max_discount": "0",
            "min_spend": "0",
            "valid_days": "7",
            "per_customer_limit": "0",
        },
    )
    assert bad.status_code == 400
    assert "할인율은 1~100%" in bad.content.decode()  # the service's own reason, in Korean
    other = loyalty_shop("lp-prod")
    foreign = owner.post(
        reverse("web:loyalty_coupon_new"),
        {
            "name": "남의 상품",
            "kind": "free_item",
            "product": str(other.coffee.pk),
            "value": "0",
            "max_discount": "0",
            "min_spend": "0",
            "valid_days": "7",
            "per_customer_limit": "0",
        },
    )
    assert foreign.status_code == 400
    assert not CouponTemplate.objects.for_shop(w.shop).filter(name="남의 상품").exists()


def test_the_referral_programme_is_saved_and_checked(owner, w):
    data = {
        "active": "on",
        "referrer_points": "1000",
        "referrer_coupon": "",
        "referee_points": "0",
        "referee_coupon": str(w.template.pk),
        "daily_limit": "3",
    }
    assert owner.post(reverse("web:loyalty_referrals"), data).status_code == 302
    program = ReferralProgram.objects.for_shop(w.shop).get()
    assert (program.referrer_points, program.referee_coupon_id, program.daily_limit) == (
        1000,
        w.template.pk,
        3,
    )
    nothing = {**data, "referrer_points": "0", "referee_coupon": ""}
    response = owner.post(reverse("web:loyalty_referrals"), nothing)
    assert response.status_code == 400
    assert "보상을 하나 이상" in response.content.decode()


# --- another shop's ids ----------------------------------------------------------------------


def test_another_shops_card_and_referral_are_not_found(owner, w):
    other = loyalty_shop("lp-ids")
    card = stamp_card_create(
        shop=other.shop,
        data=StampCardInput(
            name="남의 카드",
            stamps_required=5,
            mode="visit",
            reward_template_id=coupon_template_create(
                shop=other.shop, data=CouponTemplateInput(name="r", kind="amount", value=1)
            ).pk,
        ),
    )
    referral_program_set(shop=other.shop, referee_points=10)
    code = referral_code_issue(shop=other.shop, customer=other.customer).code
    theirs = referral_register(
        shop=other.shop, referee=make_customer(other.shop, name="남의친구"), code=code
    )
    assert owner.post(reverse("web:loyalty_stamp_off", args=[card.pk])).status_code == 404
    url = reverse("web:loyalty_referral_review", args=[theirs.pk])
    assert owner.post(url, {"decision": "approve"}).status_code == 404
    card.refresh_from_db()
    theirs.refresh_from_db()
    assert card.active and theirs.status == ReferralStatus.PENDING


def test_stamp_off_and_review_only_take_a_post(owner, w):
    assert owner.get(reverse("web:loyalty_stamp_off", args=[1])).status_code == 405
    assert owner.get(reverse("web:loyalty_referral_review", args=[1])).status_code == 405


# --- the redemption screen -------------------------------------------------------------------


def test_staff_redeem_a_coupon_and_see_its_value_then_already_used(staff, w):
    coupon = _issue(w)
    page = staff.get(reverse("web:loyalty_redeem"))
    assert page.status_code == 200 and 'name="code"' in page.content.decode()
    typed = f"{coupon.code[:5].lower()} {coupon.code[5:]}"
    ok = staff.post(reverse("web:loyalty_redeem"), {"code": typed})
    html = ok.content.decode()
    assert ok.status_code == 200 and 'data-result="ok"' in html
    assert "3천원 할인" in html and "3,000원" in html
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.REDEEMED and coupon.redeemed_by == w.staff
    again = staff.post(reverse("web:loyalty_redeem"), {"code": coupon.code})
    assert again.status_code == 422
    assert 'data-reason="already_redeemed"' in again.content.decode()
    assert "이미 사용한 쿠폰이에요" in again.content.decode()


def test_htmx_gets_the_result_fragment(staff, w):
    coupon = _issue(w)
    response = staff.post(
        reverse("web:loyalty_redeem"), {"code": coupon.code}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="redeem-result"')
    again = staff.post(reverse("web:loyalty_redeem"), {"code": coupon.code}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and 'data-reason="already_redeemed"' in again.content.decode()


def test_each_refusal_has_its_own_korean_reason(staff, w):
    now = timezone.now()
    expired = _issue(w, now=now - dt.timedelta(days=60))  # valid 30 days
    void = _issue(w)
    Coupon.objects.for_shop(w.shop).filter(pk=void.pk).update(status=CouponStatus.VOID)
    other = loyalty_shop("lp-red")
    theirs = coupon_issue(
        shop=other.shop,
        template=coupon_template_create(
            shop=other.shop, data=CouponTemplateInput(name="남의", kind="amount", value=1000)
        ),
        customer=other.customer,
    )
    typo = void.code[:-1] + ("2" if void.code[-1] != "2" else "3")
    cases = [
        (expired.code, "expired", "사용 기간이 지난 쿠폰이에요"),
        (void.code, "void", "취소된 쿠폰이에요"),
        (theirs.code, "foreign_shop", "다른 매장의 쿠폰이에요"),
        (typo, "malformed_code", "쿠폰 번호 형식이 맞지 않아요"),
        ("ABC", "malformed_code", "쿠폰 번호 형식이 맞지 않아요"),
    ]
    for code, reason, korean in cases:
        response = staff.post(reverse("web:loyalty_redeem"), {"code": code})
        html = response.content.decode()
        assert response.status_code == 422, code
        assert f'data-reason="{reason}"' in html and korean in html
    theirs.refresh_from_db()
    assert theirs.status == CouponStatus.ISSUED


def test_an_empty_code_or_a_bad_amount_is_a_form_error(staff, w):
    assert staff.post(reverse("web:loyalty_redeem"), {"code": ""}).status_code == 400
    coupon = _issue(w)
    bad = staff.post(reverse("web:loyalty_redeem"), {"code": coupon.code, "amount": "-5"})
    assert bad.status_code == 400
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.ISSUED


def test_the_reason_follows_the_page_language(staff, w):
    staff.cookies["django_language"] = "en"
    response = staff.post(reverse("web:loyalty_redeem"), {"code": "ABC"})
    assert "not a valid coupon code" in response.content.decode()
