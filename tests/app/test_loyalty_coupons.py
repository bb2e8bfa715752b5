"""Coupons: codes, templates, validity, limits, every refusal reason, cost for ROI, and
concurrent redemption (one coupon, twenty tills: exactly one wins)."""

from __future__ import annotations

import datetime as dt
import string
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from dangol.loyalty import coupons as coupon_module
from dangol.loyalty.codes import ALPHABET, _check_char, code_format, code_new, code_normalize
from dangol.loyalty.coupons import (
    REASONS,
    CouponTemplateInput,
    coupon_issue,
    coupon_redeem,
    coupon_template_create,
    coupon_void,
)
from dangol.loyalty.errors import CouponError, PointsError
from dangol.loyalty.models import Coupon, CouponStatus
from dangol.loyalty.points import points_earn_for_purchases, points_redeem
from dangol.loyalty.selectors import coupon_stats, coupon_usable, points_summary
from tests.app.loyalty_helpers import T0, buy, loyalty_shop, simple_policy

DAY = dt.timedelta(days=1)


@pytest.fixture
def w(db):
    return loyalty_shop("cpn")


@pytest.fixture
def other(db):
    return loyalty_shop("cpn-other")


def template(w, **kw):
    data = {"name": "3천원 할인", "kind": "amount", "value": 3000, "valid_days": 30} | kw
    return coupon_template_create(shop=w.shop, data=CouponTemplateInput(**data))


def refused(reason, **kw):
    with pytest.raises(CouponError) as err:
        coupon_redeem(**kw)
    assert err.value.code == reason, err.value
    assert err.value.ko and err.value.en
    return err.value


# --- codes ----------------------------------------------------------------------------------


def test_codes_use_no_ambiguous_characters_and_are_distinct():
    assert not set("01OIL") & set(ALPHABET)
    codes = {code_new() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(code_normalize(c) == c for c in codes)
    assert code_normalize(code_format(next(iter(codes))).lower()) == next(iter(codes))


@given(body=st.text(ALPHABET, min_size=9, max_size=9), data=st.data())
def test_any_single_typo_or_neighbour_swap_is_caught(body, data):
    code = body + _check_char(body)
    assert code_normalize(code) == code
    i = data.draw(st.integers(0, len(code) - 1))
    other_char = data.draw(st.sampled_from([c for c in ALPHABET if c != code[i]]))
    assert code_normalize(code[:i] + other_char + code[i + 1 :]) is None
    j = data.draw(st.integers(0, len(code) - 2))
    if code[j] != code[j + 1]:
        swapped = code[:j] + code[j + 1] + code[j] + code[j + 2 :]
        assert code_normalize(swapped) is None


@pytest.mark.parametrize(
    "raw", ["", "ABC", None, 12345, "0" * 10, "O1IL0O1IL0", "가나다라마바사아자차"]
)
def test_malformed_codes_normalise_to_none(raw):
    assert code_normalize(raw) is None


# --- templates and issuing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"name": ""},
        {"kind": "bogus"},
        {"kind": "percent", "value": 0},
        {"kind": "percent", "value": 101},
        {"kind": "amount", "value": 0},
        {"value": -100},
        {"kind": "free_item", "value": 0},
        {"valid_days": 14},
        {"valid_days": None},
        {"min_spend": -1},
    ],
)
def test_bad_templates_are_refused(w, kw):
    with pytest.raises(CouponError) as err:
        template(w, **kw)
    assert err.value.code == "invalid_template"


def test_template_refuses_another_shops_products(w, other):
    with pytest.raises(CouponError):
        template(w, kind="free_item", value=0, product_id=other.coffee.pk)
    with pytest.raises(CouponError):
        template(w, scope_product_ids=[other.coffee.pk])


@pytest.mark.parametrize("days", [0, 3, 7, 30, 90, 365])
def test_relative_validity_runs_through_the_last_local_day(w, days):
    coupon = coupon_issue(
        shop=w.shop, template=template(w, valid_days=days), customer=w.customer, now=T0
    )
    # T0 is 7 January, noon in Seoul: valid through 7 January + days, to the end of that day.
    last_day = dt.date(2026, 1, 7) + dt.timedelta(days=days)
    assert coupon.valid_from == T0
    assert timezone.localtime(coupon.expires_at) == timezone.make_aware(
        dt.datetime.combine(last_day + DAY, dt.time.min)
    )


def test_absolute_validity_and_a_template_whose_time_is_over(w):
    t = template(w, valid_days=None, valid_from=T0 + DAY, valid_until=T0 + 3 * DAY)
    coupon = coupon_issue(shop=w.shop, template=t, customer=w.customer, now=T0)
    assert (coupon.valid_from, coupon.expires_at) == (T0 + DAY, T0 + 3 * DAY)
    with pytest.raises(CouponError) as err:
        coupon_issue(shop=w.shop, template=t, customer=w.customer, now=T0 + 4 * DAY)
    assert err.value.code == "template_expired"


def test_per_customer_limit_and_idempotent_source_reference(w):
    t = template(w, per_customer_limit=2)
    first = coupon_issue(shop=w.shop, template=t, customer=w.customer, source_ref="a", now=T0)
    again = coupon_issue(shop=w.shop, template=t, customer=w.customer, source_ref="a", now=T0)
    assert first.pk == again.pk
    coupon_issue(shop=w.shop, template=t, customer=w.customer, now=T0)
    with pytest.raises(CouponError) as err:
        coupon_issue(shop=w.shop, template=t, customer=w.customer, now=T0)
    assert err.value.code == "limit_reached"
    coupon_void(shop=w.shop, coupon=first)  # a voided one no longer counts
    coupon_issue(shop=w.shop, template=t, customer=w.customer, now=T0)


def test_issue_refuses_foreign_templates_customers_and_switched_off_templates(w, other):
    t = template(w)
    with pytest.raises(CouponError) as err:
        coupon_issue(shop=w.shop, template=template(other), customer=w.customer)
    assert err.value.code == "foreign_template"
    with pytest.raises(CouponError) as err:
        coupon_issue(shop=w.shop, template=t, customer=other.customer)
    assert err.value.code == "foreign_customer"
    t.active = False
    t.save(update_fields=["active"])
    with pytest.raises(CouponError) as err:
        coupon_issue(shop=w.shop, template=t, customer=w.customer)
    assert err.value.code == "template_inactive"


# --- redemption -----------------------------------------------------------------------------


def test_every_refusal_has_a_specific_reason(w, other):
    t = template(w, min_spend=10_000)
    coupon = coupon_issue(shop=w.shop, template=t, customer=w.customer, now=T0)
    theirs = coupon_issue(
        shop=other.shop, template=template(other), customer=other.customer, now=T0
    )
    late = coupon_issue(
        shop=w.shop, template=template(w, name="당일", valid_days=0), customer=None, now=T0
    )
    s = w.shop
    refused("malformed_code", shop=s, code="HELLO", now=T0)
    refused(
        "malformed_code",
        shop=s,
        code=coupon.code[:-1] + ("2" if coupon.code[-1] != "2" else "3"),
        now=T0,
    )
    refused("unknown_code", shop=s, code=code_new(), amount=20_000, now=T0)
    refused("foreign_shop", shop=s, code=theirs.code, amount=20_000, now=T0)
    refused("expired", shop=s, code=late.code, now=T0 + 2 * DAY)
    refused("amount_required", shop=s, code=coupon.code, now=T0)
    refused("below_minimum", shop=s, code=coupon.code, amount=9_999, now=T0)
    refused("invalid_amount", shop=s, code=coupon.code, amount=-5, now=T0)
    refused("foreign_store", shop=s, code=coupon.code, amount=20_000, store=other.store, now=T0)
    refused(
        "foreign_purchase",
        shop=s,
        code=coupon.code,
        purchase=buy(other, at=T0, amount=20_000),
        now=T0,
    )
    someone = buy(w, at=T0, amount=20_000, customer=loyalty_customer(w))
    refused("other_customer", shop=s, code=coupon.code, purchase=someone, now=T0)
    used = coupon_redeem(shop=s, code=code_format(coupon.code).lower(), amount=20_000, now=T0)
    assert used.status == CouponStatus.REDEEMED and used.face_value == 3000
    refused("already_redeemed", shop=s, code=coupon.code, amount=20_000, now=T0)
    voided = coupon_void(shop=s, coupon=coupon_issue(shop=s, template=t, customer=None, now=T0))
    refused("void", shop=s, code=voided.code, amount=20_000, now=T0)
    future = template(
        w, name="다음 주", valid_days=None, valid_from=T0 + 7 * DAY, valid_until=T0 + 9 * DAY
    )
    early = coupon_issue(shop=s, template=future, customer=None, now=T0)
    refused("not_yet_valid", shop=s, code=early.code, now=T0)
    assert set(REASONS) >= {"malformed_code", "foreign_shop", "expired", "already_redeemed"}


def loyalty_customer(w):
    from tests.app.factories import make_customer

    return make_customer(w.shop, name="박지훈")


def test_scope_and_cost_for_roi(w):
    desserts = template(
        w,
        name="디저트 20%",
        kind="percent",
        value=20,
        max_discount=1000,
        scope_categories=["디저트"],
    )
    free_coffee = template(
        w, name="아메리카노 무료", kind="free_item", value=0, product_id=w.coffee.pk
    )
    shipping = template(w, name="무료 배송", kind="free_shipping", value=3000)
    coffee_only = buy(w, at=T0, items=[(w.coffee, 1)])
    with_cake = buy(w, at=T0, items=[(w.coffee, 1), (w.cake, 1)])
    c1 = coupon_issue(shop=w.shop, template=desserts, customer=w.customer, now=T0)
    refused("out_of_scope", shop=w.shop, code=c1.code, purchase=coffee_only, now=T0)
    refused("out_of_scope", shop=w.shop, code=c1.code, amount=20_000, now=T0)  # lines needed
    used = coupon_redeem(shop=w.shop, code=c1.code, purchase=with_cake, store=w.store, now=T0)
    assert (used.face_value, used.product_cost) == (1000, 0)  # 20 % of 6,500, capped at 1,000
    assert used.redeemed_purchase_id == with_cake.pk and used.redeemed_amount == 11_000
    c2 = coupon_issue(shop=w.shop, template=free_coffee, customer=w.customer, now=T0)
    used = coupon_redeem(shop=w.shop, code=c2.code, user=w.staff, now=T0)
    assert (used.face_value, used.product_cost, used.redeemed_by_id) == (4500, 1200, w.staff.pk)
    c3 = coupon_issue(shop=w.shop, template=shipping, customer=w.customer, now=T0)
    coupon_redeem(shop=w.shop, code=c3.code, now=T0)
    stats = {
        s.template.name: (s.issued, s.redeemed, s.face_value, s.product_cost)
        for s in coupon_stats(shop=w.shop)
    }
    assert stats == {
        "디저트 20%": (1, 1, 1000, 0),
        "아메리카노 무료": (1, 1, 4500, 1200),
        "무료 배송": (1, 1, 3000, 3000),
    }
    assert coupon_usable(shop=w.shop, customer=w.customer, now=T0) == []


# --- concurrency ----------------------------------------------------------------------------


def _in_threads(n, work):
    """Run ``work(i)`` in ``n`` threads, each with its own database connection."""
    results: list = [None] * n

    def run(i):
        try:
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_redemptions_of_one_coupon_exactly_one_wins(monkeypatch):
    w = loyalty_shop("race")
    coupon = coupon_issue(shop=w.shop, template=template(w), customer=w.customer)
    n = 20
    checked = []
    concurrent = connection.vendor == "postgresql"
    if concurrent:
        # Hold every till after its checks until all twenty have seen the coupon unused, so
        # the conditional update is what decides (SQLite has one writer: no such overlap).
        barrier = threading.Barrier(n)
        real_check = coupon_module._check

        def check_then_wait(**kw):
            found = real_check(**kw)
            checked.append(found[0].status)
            barrier.wait(timeout=30)
            return found

        monkeypatch.setattr(coupon_module, "_check", check_then_wait)
    results = _in_threads(n, lambda i: coupon_redeem(shop=w.shop, code=coupon.code, amount=5000))
    wins = [r for r in results if isinstance(r, Coupon)]
    losses = [r for r in results if isinstance(r, CouponError)]
    assert len(wins) == 1, results
    assert len(losses) == n - 1 and {e.code for e in losses} == {"already_redeemed"}, results
    if concurrent:
        assert checked == [CouponStatus.ISSUED] * n
    assert Coupon.objects.for_shop(w.shop).get(pk=coupon.pk).status == CouponStatus.REDEEMED


@pytest.mark.django_db(transaction=True)
def test_concurrent_point_redemptions_never_overdraw():
    w = loyalty_shop("race-pts")
    simple_policy(w, at=T0, rate_bp=1000)
    purchase = buy(w, at=T0 + DAY, amount=10_000)  # 1,000 points
    points_earn_for_purchases(shop=w.shop, purchase_ids=[purchase.pk], now=T0 + DAY)
    now = T0 + 2 * DAY
    results = _in_threads(
        20, lambda i: points_redeem(shop=w.shop, customer=w.customer, points=150, now=now)
    )
    ok = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(ok) == 6
    assert all(isinstance(e, PointsError) and e.code == "insufficient_points" for e in errors)
    assert points_summary(shop=w.shop, customer=w.customer, now=now).balance == 100


def test_reason_messages_are_bilingual():
    for ko, en in REASONS.values():
        assert any("\uac00" <= ch <= "\ud7a3" for ch in ko)
        assert set(en) & set(string.ascii_letters)
