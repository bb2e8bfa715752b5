"""Referrals: personal codes, the guards of registration, and a reward paid once, only after
the referee's first paid purchase."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from dangol.customers.models import Customer
from dangol.loyalty.codes import ALPHABET, code_format
from dangol.loyalty.coupons import CouponTemplateInput, coupon_template_create
from dangol.loyalty.errors import ReferralError
from dangol.loyalty.models import (
    Coupon,
    CouponSource,
    EntryKind,
    PointsEntry,
    Referral,
    ReferralStatus,
)
from dangol.loyalty.referrals import (
    referral_code_issue,
    referral_program_set,
    referral_register,
    referral_review,
    referrals_reward_for_purchases,
)
from dangol.loyalty.selectors import points_summary, referral_counts
from dangol.sales.models import PurchaseStatus
from tests.app.factories import make_customer
from tests.app.loyalty_helpers import T0, buy, loyalty_shop

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def w(db):
    w = loyalty_shop("ref")
    w.welcome = coupon_template_create(
        shop=w.shop, data=CouponTemplateInput(name="친구 웰컴", kind="amount", value=3000)
    )
    w.program = referral_program_set(
        shop=w.shop, referrer_points=1000, referee_coupon=w.welcome, daily_limit=3, now=T0
    )
    w.code = referral_code_issue(shop=w.shop, customer=w.customer, device_id="phone-A", now=T0)
    return w


def bonus(w, customer) -> int:
    return sum(
        PointsEntry.objects.for_shop(w.shop)
        .filter(customer_id=customer.pk, kind=EntryKind.BONUS)
        .values_list("points", flat=True)
    )


def referral_coupons(w, customer) -> int:
    return (
        Coupon.objects.for_shop(w.shop)
        .filter(customer_id=customer.pk, source=CouponSource.REFERRAL)
        .count()
    )


def refused(reason: str, **kwargs) -> None:
    with pytest.raises(ReferralError) as err:
        referral_register(**kwargs)
    assert err.value.code == reason
    assert err.value.ko and err.value.en


# --- codes ----------------------------------------------------------------------------------


def test_a_customer_has_one_personal_code_in_the_coupon_alphabet(w):
    again = referral_code_issue(shop=w.shop, customer=w.customer)
    assert again.pk == w.code.pk
    assert len(w.code.code) == 10 and set(w.code.code) <= set(ALPHABET)
    other = referral_code_issue(shop=w.shop, customer=make_customer(w.shop, name="박지훈"))
    assert other.code != w.code.code


def test_a_code_for_another_shops_customer_is_refused(w):
    other = loyalty_shop("ref-other")
    with pytest.raises(ReferralError) as err:
        referral_code_issue(shop=w.shop, customer=other.customer)
    assert err.value.code == "foreign_customer"


# --- the reward ------------------------------------------------------------------------------


def test_both_sides_are_rewarded_only_after_the_first_paid_purchase(w):
    friend = make_customer(w.shop, name="김민준")
    # Typed with a dash and in lower case: still the code.
    referral = referral_register(
        shop=w.shop, referee=friend, code=code_format(w.code.code).lower(), now=T0
    )
    assert referral.status == ReferralStatus.PENDING and referral.referrer_id == w.customer.pk
    unpaid = buy(w, at=T0 + HOUR, amount=8000, customer=friend, status=PurchaseStatus.CANCELLED)
    assert referrals_reward_for_purchases(shop=w.shop, purchase_ids=[unpaid.pk]) == 0
    assert bonus(w, w.customer) == 0 and referral_coupons(w, friend) == 0
    paid = buy(w, at=T0 + 2 * HOUR, amount=8000, customer=friend)
    assert referrals_reward_for_purchases(shop=w.shop, purchase_ids=[paid.pk], now=T0) == 1
    assert bonus(w, w.customer) == 1000
    assert points_summary(shop=w.shop, customer=w.customer, now=T0).balance == 1000
    assert referral_coupons(w, friend) == 1 and referral_coupons(w, w.customer) == 0
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REWARDED and referral.purchase_id == paid.pk
    # Idempotent: the same purchase again, or a second purchase, pays nothing more.
    later = buy(w, at=T0 + 3 * HOUR, amount=5000, customer=friend)
    assert referrals_reward_for_purchases(shop=w.shop, purchase_ids=[paid.pk, later.pk]) == 0
    assert bonus(w, w.customer) == 1000 and referral_coupons(w, friend) == 1


def test_purchases_of_customers_without_a_referral_reward_nobody(w):
    purchase = buy(w, at=T0, amount=5000)
    assert referrals_reward_for_purchases(shop=w.shop, purchase_ids=[purchase.pk]) == 0
    assert referrals_reward_for_purchases(shop=w.shop, purchase_ids=[]) == 0


def test_another_shops_purchase_is_refused(w):
    other = loyalty_shop("ref-buy")
    foreign = buy(other, at=T0, amount=5000)
    with pytest.raises(ReferralError) as err:
        referrals_reward_for_purchases(shop=w.shop, purchase_ids=[foreign.pk])
    assert err.value.code == "foreign_purchase"


def test_a_switched_off_programme_pays_nothing_and_takes_no_codes(w):
    friend = make_customer(w.shop, name="김민준")
    referral_register(shop=w.shop, referee=friend, code=w.code.code, now=T0)
    referral_program_set(shop=w.shop, active=False)
    paid = buy(w, at=T0 + HOUR, amount=8000, customer=friend)
    assert referrals_reward_for_purchases(shop=w.shop, purchase_ids=[paid.pk]) == 0
    refused(
        "program_off", shop=w.shop, referee=make_customer(w.shop, name="최유진"), code=w.code.code
    )


def test_programme_settings_are_checked(w):
    other = loyalty_shop("ref-tpl")
    foreign = coupon_template_create(
        shop=other.shop, data=CouponTemplateInput(name="남의 쿠폰", kind="amount", value=1000)
    )
    for kwargs in (
        {"referrer_points": -1},
        {"referee_points": 10_000_000},
        {"referrer_points": 100, "daily_limit": 0},
        {"referrer_coupon": foreign},
        {},  # active without any reward
    ):
        with pytest.raises(ReferralError) as err:
            referral_program_set(shop=w.shop, **kwargs)
        assert err.value.code == "invalid_program"


# --- guards -----------------------------------------------------------------------------------


def test_malformed_and_unknown_codes_are_refused(w):
    friend = make_customer(w.shop, name="김민준")
    typo = w.code.code[:-1] + ("2" if w.code.code[-1] != "2" else "3")
    for bad in ("", "abc", typo, "0" * 10, None, 12345):
        refused("malformed_code", shop=w.shop, referee=friend, code=bad)
    other = loyalty_shop("ref-code")
    referral_program_set(shop=other.shop, referee_points=10)
    foreign = referral_code_issue(shop=other.shop, customer=other.customer)
    refused("unknown_code", shop=w.shop, referee=friend, code=foreign.code)
    assert not Referral.objects.for_shop(w.shop).exists()


def test_another_shops_customer_cannot_register(w):
    other = loyalty_shop("ref-cust")
    refused("foreign_customer", shop=w.shop, referee=other.customer, code=w.code.code)


def test_self_referral_is_refused(w):
    refused("self_referral", shop=w.shop, referee=w.customer, code=w.code.code)


def test_the_same_phone_or_email_as_the_referrer_is_refused(w):
    twin = make_customer(w.shop, name="이서연2")
    Customer.unscoped.filter(pk=twin.pk).update(phone_bidx=w.customer.phone_bidx)
    twin.refresh_from_db()
    refused("same_person", shop=w.shop, referee=twin, code=w.code.code)
    mailer = make_customer(w.shop, name="이메일", email="seoyeon@example.com")
    Customer.unscoped.filter(pk=w.customer.pk).update(email_bidx=mailer.email_bidx)
    refused("same_person", shop=w.shop, referee=mailer, code=w.code.code)


def test_the_referrers_device_or_a_device_used_before_is_refused(w):
    refused(
        "same_device",
        shop=w.shop,
        referee=make_customer(w.shop, name="김민준"),
        code=w.code.code,
        device_id="phone-A",
    )
    referral_register(
        shop=w.shop, referee=make_customer(w.shop, name="최유진"), code=w.code.code, device_id="B"
    )
    refused(
        "same_device",
        shop=w.shop,
        referee=make_customer(w.shop, name="정하준"),
        code=w.code.code,
        device_id="B",
    )


def test_a_customer_is_referred_once_and_only_before_buying(w):
    friend = make_customer(w.shop, name="김민준")
    referral_register(shop=w.shop, referee=friend, code=w.code.code, now=T0)
    second = referral_code_issue(shop=w.shop, customer=make_customer(w.shop, name="박지훈"))
    refused("already_referred", shop=w.shop, referee=friend, code=second.code)
    regular = make_customer(w.shop, name="단골손님")
    buy(w, at=T0, amount=5000, customer=regular)
    refused("not_new_customer", shop=w.shop, referee=regular, code=w.code.code)


def test_a_burst_is_held_for_the_owner_and_paid_only_once_approved(w):
    friends = [make_customer(w.shop, name=f"친구{i}") for i in range(5)]
    made = [
        referral_register(shop=w.shop, referee=f, code=w.code.code, now=T0 + i * HOUR)
        for i, f in enumerate(friends)
    ]
    assert [r.status for r in made] == ["pending"] * 3 + ["held"] * 2
    assert made[3].hold_reason == "burst"
    assert referral_counts(shop=w.shop) == {
        "pending": 3,
        "held": 2,
        "rewarded": 0,
        "rejected": 0,
    }
    purchases = [buy(w, at=T0 + 6 * HOUR, amount=5000, customer=f) for f in friends]
    paid = referrals_reward_for_purchases(shop=w.shop, purchase_ids=[p.pk for p in purchases])
    assert paid == 3 and bonus(w, w.customer) == 3000
    # Staff cannot review; the owner approves one (paid at once: the referee already bought)
    # and rejects the other (never paid).
    with pytest.raises(ReferralError) as err:
        referral_review(shop=w.shop, referral=made[3], approve=True, user=w.staff)
    assert err.value.code == "owner_required"
    referral_review(shop=w.shop, referral=made[3], approve=True, user=w.owner)
    rejected = referral_review(shop=w.shop, referral=made[4], approve=False, user=w.owner)
    assert rejected.status == ReferralStatus.REJECTED
    assert bonus(w, w.customer) == 4000
    referrals_reward_for_purchases(shop=w.shop, purchase_ids=[p.pk for p in purchases])
    assert bonus(w, w.customer) == 4000
    with pytest.raises(ReferralError) as err:
        referral_review(shop=w.shop, referral=made[3], approve=True, user=w.owner)
    assert err.value.code == "not_held"
    # A day later the referrer may refer again without review.
    late = referral_register(
        shop=w.shop,
        referee=make_customer(w.shop, name="다음날"),
        code=w.code.code,
        now=T0 + 30 * HOUR,
    )
    assert late.status == ReferralStatus.PENDING


def test_another_shops_referral_cannot_be_reviewed(w):
    other = loyalty_shop("ref-rev")
    referral_program_set(shop=other.shop, referee_points=10)
    code = referral_code_issue(shop=other.shop, customer=other.customer)
    theirs = referral_register(
        shop=other.shop, referee=make_customer(other.shop, name="남의친구"), code=code.code
    )
    with pytest.raises(ReferralError) as err:
        referral_review(shop=w.shop, referral=theirs, approve=True, user=w.owner)
    assert err.value.code == "foreign_referral"


# --- the property test ----------------------------------------------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.integers(0, 3), st.integers(0, 3)),
        st.tuples(
            st.just("buy"),
            st.integers(0, 3),
            # "+hook": the reward is called right after the purchase, as the sales app will.
            st.sampled_from(["paid", "paid+hook", "cancelled", "cancelled+hook"]),
        ),
        st.tuples(st.just("reward"), st.integers(0, 20), st.booleans()),
        st.tuples(st.just("review"), st.integers(0, 20), st.booleans()),
    ),
    min_size=10,
    max_size=25,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=ops)
@example(
    history=[
        ("register", 1, 0),
        ("register", 2, 0),
        ("register", 3, 0),  # past the daily limit of 2: held
        ("buy", 1, "cancelled"),
        ("reward", 0, True),
        ("buy", 1, "paid"),
        ("buy", 3, "paid"),
        ("reward", 0, True),
        ("reward", 1, False),
        ("review", 0, True),  # approved after the purchase: paid at once
        ("reward", 0, True),
    ]
)
def test_no_reward_is_ever_paid_twice_or_before_a_paid_purchase(w, history):
    with transaction.atomic():
        rewarded = _run(w, history)
        transaction.set_rollback(True)
    event(f"referrals rewarded: {min(rewarded, 2)}{'+' if rewarded >= 2 else ''}")


def _run(w, history):
    referral_program_set(
        shop=w.shop,
        referrer_points=500,
        referee_points=200,
        referee_coupon=w.welcome,
        daily_limit=2,
    )
    people = [w.customer] + [make_customer(w.shop, name=f"손님{i}") for i in range(3)]
    codes = [referral_code_issue(shop=w.shop, customer=c).code for c in people]
    purchases: list = []
    paid_by: set[int] = set()
    now = T0
    for op, a, b in history:
        now += HOUR
        if op == "register":
            try:
                referral_register(shop=w.shop, referee=people[a], code=codes[b], now=now)
            except ReferralError as exc:
                assert exc.code in ("self_referral", "already_referred", "not_new_customer")
        elif op == "buy":
            paid = b.startswith("paid")
            status = PurchaseStatus.PAID if paid else PurchaseStatus.CANCELLED
            purchases.append(buy(w, at=now, amount=5000, customer=people[a], status=status))
            if paid:
                paid_by.add(people[a].pk)
            if b.endswith("+hook"):
                referrals_reward_for_purchases(
                    shop=w.shop, purchase_ids=[purchases[-1].pk], now=now
                )
        elif op == "reward" and purchases:
            chosen = purchases[a % len(purchases) :] if b else purchases[a % len(purchases) :][:1]
            referrals_reward_for_purchases(
                shop=w.shop, purchase_ids=[p.pk for p in chosen], now=now
            )
        elif op == "review":
            held = list(Referral.objects.for_shop(w.shop).filter(status="held").order_by("pk"))
            if held:
                referral_review(shop=w.shop, referral=held[a % len(held)], approve=b, user=w.owner)
        # Invariants after every step.
        for referral in Referral.objects.for_shop(w.shop):
            tag = f"referral #{referral.pk} "
            entries = PointsEntry.objects.for_shop(w.shop).filter(reason__startswith=tag)
            coupons = Coupon.objects.for_shop(w.shop).filter(
                source_ref__startswith=f"referral:{referral.pk}:"
            )
            if referral.status == ReferralStatus.REWARDED:
                assert referral.referee_id in paid_by
                assert referral.purchase.status == PurchaseStatus.PAID
                assert referral.purchase.customer_id == referral.referee_id
                assert sorted(entries.values_list("customer_id", "points")) == sorted(
                    [(referral.referrer_id, 500), (referral.referee_id, 200)]
                )
                assert list(coupons.values_list("customer_id", flat=True)) == [referral.referee_id]
            else:
                assert not entries.exists() and not coupons.exists()
    return Referral.objects.for_shop(w.shop).filter(status=ReferralStatus.REWARDED).count()
