"""The points ledger: earn rules, FIFO lots, expiry, refunds, adjustments and versioned policies;
a property test over random sequences against a plain-Python model of the ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dangol.audit.models import AuditEvent
from dangol.loyalty.errors import PointsError
from dangol.loyalty.models import EntryKind, PointsAllocation, PointsEntry
from dangol.loyalty.points import (
    PolicyInput,
    points_adjust,
    points_earn_for_purchases,
    points_expire,
    points_policy_create,
    points_redeem,
    points_reverse_for_purchase,
)
from dangol.loyalty.selectors import points_balances, points_summary
from dangol.sales.models import PurchaseStatus
from tests.app.loyalty_helpers import T0, buy, loyalty_shop, mark_refunded, simple_policy

DAY = dt.timedelta(days=1)


@pytest.fixture
def w(db):
    return loyalty_shop("pts")


@pytest.fixture
def other(db):
    return loyalty_shop("pts-other")


def earn(w, *, at, **kw):
    purchase = buy(w, at=at, **kw)
    points_earn_for_purchases(shop=w.shop, purchase_ids=[purchase.pk], now=at)
    return purchase


def allocs(w, debit):
    return PointsAllocation.objects.for_shop(w.shop).filter(debit=debit)


def balance(w, at, customer=None):
    return points_summary(shop=w.shop, customer=customer or w.customer, now=at).balance


# --- earn rules -----------------------------------------------------------------------------


def test_percent_visit_and_item_rules_add_up(w):
    points_policy_create(
        shop=w.shop,
        data=PolicyInput(
            earn_rate_bp=300,
            points_per_visit=50,
            item_rules=[
                {"category": "디저트", "points": 200},
                {"product_id": w.coffee.pk, "points": 10},
            ],
        ),
        now=T0,
    )
    purchase = earn(w, at=T0, items=[(w.coffee, 2), (w.cake, 1)])  # 9,000 + 6,500 = 15,500
    lot = PointsEntry.objects.for_shop(w.shop).get(purchase_id=purchase.pk)
    assert lot.points == 15_500 * 300 // 10_000 + 50 + 2 * 10 + 200
    assert lot.kind == EntryKind.EARN


def test_slow_hour_promotion_multiplies_only_in_its_window(w):
    promo = {
        "name": "한가한 시간",
        "multiplier_pct": 200,
        "weekdays": [2],
        "start_hour": 14,
        "end_hour": 17,
    }
    points_policy_create(
        shop=w.shop, data=PolicyInput(earn_rate_bp=1000, promotions=[promo]), now=T0
    )
    wed_3pm = T0 + dt.timedelta(hours=3)  # 15:00 in Seoul, Wednesday
    wed_noon = T0
    thu_3pm = wed_3pm + DAY
    got = [earn(w, at=t, amount=10_000) for t in (wed_3pm, wed_noon, thu_3pm)]
    points = [PointsEntry.objects.for_shop(w.shop).get(purchase_id=p.pk).points for p in got]
    assert points == [2000, 1000, 1000]


def test_minimum_amount_anonymous_and_unpaid_purchases_earn_nothing(w):
    points_policy_create(shop=w.shop, data=PolicyInput(earn_rate_bp=500, min_amount=5000), now=T0)
    small = buy(w, at=T0, amount=4000)
    anonymous = buy(w, at=T0, amount=9000, customer=False)
    refunded = buy(w, at=T0, amount=9000, status=PurchaseStatus.REFUNDED)
    ok = buy(w, at=T0, amount=5000)
    ids = [small.pk, anonymous.pk, refunded.pk, ok.pk]
    assert points_earn_for_purchases(shop=w.shop, purchase_ids=ids, now=T0) == 1
    assert points_earn_for_purchases(shop=w.shop, purchase_ids=ids, now=T0) == 0  # idempotent
    assert balance(w, T0) == 250


def test_no_policy_no_points(w):
    purchase = buy(w, at=T0, amount=10_000)
    assert points_earn_for_purchases(shop=w.shop, purchase_ids=[purchase.pk], now=T0) == 0


def test_earning_refuses_another_shops_purchase(w, other):
    simple_policy(w, at=T0)
    theirs = buy(other, at=T0, amount=10_000)
    with pytest.raises(PointsError) as err:
        points_earn_for_purchases(shop=w.shop, purchase_ids=[theirs.pk], now=T0)
    assert err.value.code == "foreign_purchase"


@pytest.mark.parametrize(
    "data, code",
    [
        (PolicyInput(earn_rate_bp=-1), "invalid_policy"),
        (PolicyInput(earn_rate_bp=5001), "invalid_policy"),
        (PolicyInput(validity_months=0), "invalid_policy"),
        (PolicyInput(points_per_visit=-5), "invalid_policy"),
        (PolicyInput(item_rules=[{"points": 10}]), "invalid_policy"),
        (PolicyInput(item_rules=[{"category": "커피", "points": 0}]), "invalid_policy"),
        (PolicyInput(promotions=[{"multiplier_pct": 50}]), "invalid_policy"),
        (
            PolicyInput(promotions=[{"multiplier_pct": 200, "start_hour": 17, "end_hour": 14}]),
            "invalid_policy",
        ),
        (
            PolicyInput(promotions=[{"multiplier_pct": 200, "starts_on": "2026-13-01"}]),
            "invalid_policy",
        ),
    ],
)
def test_bad_policies_are_refused(w, data, code):
    with pytest.raises(PointsError) as err:
        points_policy_create(shop=w.shop, data=data, now=T0)
    assert err.value.code == code and err.value.ko and err.value.en


def test_policy_cannot_be_backdated_nor_use_another_shops_product(w, other):
    with pytest.raises(PointsError) as err:
        points_policy_create(shop=w.shop, data=PolicyInput(), now=T0, effective_from=T0 - DAY)
    assert err.value.code == "retroactive_policy"
    with pytest.raises(PointsError) as err:
        points_policy_create(
            shop=w.shop,
            data=PolicyInput(item_rules=[{"product_id": other.coffee.pk, "points": 5}]),
            now=T0,
        )
    assert err.value.code == "invalid_policy"


def test_policy_change_applies_only_to_points_earned_after_it(w):
    simple_policy(w, at=T0, rate_bp=500, months=12)
    before = earn(w, at=T0 + DAY, amount=10_000)
    simple_policy(w, at=T0 + 2 * DAY, rate_bp=1000, months=3)
    after = earn(w, at=T0 + 3 * DAY, amount=10_000)
    old = PointsEntry.objects.for_shop(w.shop).get(purchase_id=before.pk)
    new = PointsEntry.objects.for_shop(w.shop).get(purchase_id=after.pk)
    assert (old.points, old.policy.version) == (500, 1)
    assert (new.points, new.policy.version) == (1000, 2)
    local = timezone.localtime(T0 + DAY).date()
    assert timezone.localtime(old.expires_at).date() == local + relativedelta(months=12) + DAY


# --- redeem, expire, FIFO -------------------------------------------------------------------


def test_redeem_takes_the_oldest_expiry_first_and_refuses_overdraft(w):
    simple_policy(w, at=T0, rate_bp=1000)
    first = earn(w, at=T0, amount=10_000)  # 1,000
    second = earn(w, at=T0 + 10 * DAY, amount=20_000)  # 2,000
    debit = points_redeem(shop=w.shop, customer=w.customer, points=1500, now=T0 + 11 * DAY)
    taken = dict(allocs(w, debit).values_list("lot__purchase_id", "points"))
    assert taken == {first.pk: 1000, second.pk: 500}
    with pytest.raises(PointsError) as err:
        points_redeem(shop=w.shop, customer=w.customer, points=1501, now=T0 + 11 * DAY)
    assert err.value.code == "insufficient_points"
    assert balance(w, T0 + 11 * DAY) == 1500


@pytest.mark.parametrize("points", [0, -5, 10_000_001, 1.5, "100", True])
def test_redeem_refuses_bad_amounts(w, points):
    with pytest.raises(PointsError) as err:
        points_redeem(shop=w.shop, customer=w.customer, points=points, now=T0)
    assert err.value.code == "invalid_points"


def test_redeem_refuses_another_shops_customer_and_purchase(w, other):
    simple_policy(other, at=T0)
    earn(other, at=T0, amount=100_000)
    with pytest.raises(PointsError) as err:
        points_redeem(shop=w.shop, customer=other.customer, points=10, now=T0)
    assert err.value.code == "foreign_customer"
    theirs = buy(other, at=T0, amount=1000)
    with pytest.raises(PointsError) as err:
        points_redeem(shop=w.shop, customer=w.customer, points=10, purchase=theirs, now=T0)
    assert err.value.code == "foreign_purchase"


def test_expiry_takes_only_what_is_left_and_spent_points_never_expire(w):
    simple_policy(w, at=T0, rate_bp=1000, months=1)
    earn(w, at=T0, amount=10_000)  # 1,000, expires after one month
    points_redeem(shop=w.shop, customer=w.customer, points=700, now=T0 + DAY)
    later = T0 + 40 * DAY
    # Derived before the nightly run: the expired lot no longer counts.
    assert balance(w, later) == 0
    assert points_expire(shop=w.shop, now=later) == 300
    assert points_expire(shop=w.shop, now=later) == 0  # idempotent
    kinds = dict(PointsEntry.objects.for_shop(w.shop).values_list("kind").annotate(s=Sum("points")))
    assert kinds == {"earn": 1000, "redeem": -700, "expire": -300}


def test_expiring_within_30_days_is_derived(w):
    simple_policy(w, at=T0, rate_bp=1000, months=1)
    earn(w, at=T0, amount=10_000)
    summary = points_summary(shop=w.shop, customer=w.customer, now=T0 + DAY)
    assert (summary.balance, summary.expiring_soon) == (1000, 0)
    summary = points_summary(shop=w.shop, customer=w.customer, now=T0 + 10 * DAY)
    assert (summary.balance, summary.expiring_soon) == (1000, 1000)


# --- refunds --------------------------------------------------------------------------------


def test_refund_reverses_exactly_what_the_purchase_earned(w):
    simple_policy(w, at=T0, rate_bp=1000)
    keep = earn(w, at=T0, amount=10_000)
    back = earn(w, at=T0 + DAY, amount=30_000)  # 3,000
    mark_refunded(back)
    debit = points_reverse_for_purchase(shop=w.shop, purchase=back, now=T0 + 2 * DAY)
    assert debit.points == -3000
    assert list(allocs(w, debit).values_list("lot__purchase_id", flat=True)) == [back.pk]
    assert balance(w, T0 + 2 * DAY) == 1000
    assert points_reverse_for_purchase(shop=w.shop, purchase=back, now=T0 + 2 * DAY) is None
    assert keep.pk


def test_refund_of_spent_points_leaves_a_debt_the_next_earn_pays(w):
    simple_policy(w, at=T0, rate_bp=1000)
    back = earn(w, at=T0, amount=10_000)
    points_redeem(shop=w.shop, customer=w.customer, points=800, now=T0 + DAY)
    mark_refunded(back)
    points_reverse_for_purchase(shop=w.shop, purchase=back, now=T0 + 2 * DAY)
    summary = points_summary(shop=w.shop, customer=w.customer, now=T0 + 2 * DAY)
    assert (summary.balance, summary.debt) == (-800, 800)
    earn(w, at=T0 + 3 * DAY, amount=10_000)
    summary = points_summary(shop=w.shop, customer=w.customer, now=T0 + 3 * DAY)
    assert (summary.balance, summary.debt) == (200, 0)


def test_partial_refund_reverses_the_refunded_share(w):
    simple_policy(w, at=T0, rate_bp=1000)
    purchase = earn(w, at=T0, amount=10_000)
    mark_refunded(purchase, PurchaseStatus.PARTIALLY_REFUNDED)
    debit = points_reverse_for_purchase(
        shop=w.shop, purchase=purchase, refunded_amount=2500, now=T0 + DAY
    )
    assert debit.points == -250
    with pytest.raises(PointsError) as err:
        points_reverse_for_purchase(shop=w.shop, purchase=purchase, refunded_amount=0, now=T0)
    assert err.value.code == "invalid_amount"


def test_reversal_refuses_paid_and_foreign_purchases(w, other):
    simple_policy(w, at=T0)
    paid = earn(w, at=T0, amount=10_000)
    with pytest.raises(PointsError) as err:
        points_reverse_for_purchase(shop=w.shop, purchase=paid, now=T0)
    assert err.value.code == "not_refunded"
    theirs = mark_refunded(buy(other, at=T0, amount=1000))
    with pytest.raises(PointsError) as err:
        points_reverse_for_purchase(shop=w.shop, purchase=theirs, now=T0)
    assert err.value.code == "foreign_purchase"


# --- adjustments ----------------------------------------------------------------------------


def test_adjustments_need_a_reason_a_member_and_the_owner_when_negative_or_large(w, other):
    simple_policy(w, at=T0)
    with pytest.raises(PointsError) as err:
        points_adjust(
            shop=w.shop, customer=w.customer, points=100, reason="  ", user=w.owner, now=T0
        )
    assert err.value.code == "reason_required"
    with pytest.raises(PointsError) as err:
        points_adjust(shop=w.shop, customer=w.customer, points=100, reason="x", user=None, now=T0)
    assert err.value.code == "not_a_member"
    with pytest.raises(PointsError) as err:
        points_adjust(
            shop=w.shop, customer=w.customer, points=100, reason="x", user=other.owner, now=T0
        )
    assert err.value.code == "not_a_member"
    for points in (-10, 100_001):
        with pytest.raises(PointsError) as err:
            points_adjust(
                shop=w.shop, customer=w.customer, points=points, reason="x", user=w.staff, now=T0
            )
        assert err.value.code == "owner_required"
    with pytest.raises(PointsError) as err:
        points_adjust(shop=w.shop, customer=w.customer, points=0, reason="x", user=w.owner, now=T0)
    assert err.value.code == "invalid_points"
    with pytest.raises(PointsError) as err:
        points_adjust(
            shop=w.shop, customer=other.customer, points=5, reason="x", user=w.owner, now=T0
        )
    assert err.value.code == "foreign_customer"
    assert not PointsEntry.objects.for_shop(w.shop).exists()


def test_adjustments_are_audited_and_a_deduction_cannot_overdraw(w):
    simple_policy(w, at=T0)
    points_adjust(
        shop=w.shop, customer=w.customer, points=300, reason="영수증 누락", user=w.staff, now=T0
    )
    with pytest.raises(PointsError) as err:
        points_adjust(
            shop=w.shop, customer=w.customer, points=-301, reason="오적립", user=w.owner, now=T0
        )
    assert err.value.code == "insufficient_points"
    points_adjust(
        shop=w.shop, customer=w.customer, points=-100, reason="오적립", user=w.owner, now=T0
    )
    assert balance(w, T0) == 200
    reasons = list(
        AuditEvent.objects.for_shop(w.shop)
        .filter(object_type="points", customer_id=w.customer.pk)
        .order_by("pk")
        .values_list("reason", "username")
    )
    assert reasons == [("+300: 영수증 누락", "staff-pts"), ("-100: 오적립", "owner-pts")]


def test_posted_balances_of_many_customers_in_one_query(w, django_assert_num_queries):
    simple_policy(w, at=T0, rate_bp=1000)
    earn(w, at=T0, amount=10_000)
    with django_assert_num_queries(1):
        found = points_balances(shop=w.shop, customer_ids=[w.customer.pk, 999_999])
    assert found == {w.customer.pk: 1000}


# --- the property test ----------------------------------------------------------------------


class Model:
    """The ledger in plain Python: lots [points, open, expires, purchase], FIFO, debt."""

    def __init__(self):
        self.lots: list[dict] = []
        self.debt = 0
        self.expired_from: dict[int, int] = {}

    def unexpired(self, now):
        order = sorted(range(len(self.lots)), key=lambda i: (self.lots[i]["expires"], i))
        return [i for i in order if self.lots[i]["expires"] > now]

    def balance(self, now):
        return sum(self.lots[i]["open"] for i in self.unexpired(now)) - self.debt

    def _take(self, order, amount):
        for i in order:
            part = min(self.lots[i]["open"], amount)
            self.lots[i]["open"] -= part
            amount -= part
        return amount

    def credit(self, points, expires, purchase, now):
        self.lots.append(
            {"points": points, "open": points, "expires": expires, "purchase": purchase}
        )
        self.debt = self._take(self.unexpired(now), self.debt)

    def redeem(self, amount, now):
        if amount > self.balance(now) or self.debt:
            return False
        self._take(self.unexpired(now), amount)
        return True

    def expire(self, now):
        for i, lot in enumerate(self.lots):
            if lot["expires"] <= now and lot["open"]:
                self.expired_from[i] = self.expired_from.get(i, 0) + lot["open"]
                lot["open"] = 0

    def refund(self, index, now):
        lot = self.lots[index]
        due = lot["points"] - self.expired_from.get(index, 0)
        own = [index] if lot["open"] else []
        rest = [i for i in self.unexpired(now) if i != index]
        self.debt += self._take(own + rest, due)
        return due


steps = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.sampled_from([0, 2, 15, 35, 100])),
        st.tuples(st.just("earn"), st.integers(0, 60_000)),
        st.tuples(st.just("redeem"), st.integers(1, 3000)),
        st.tuples(st.just("expire"), st.just(0)),
        st.tuples(st.just("refund"), st.integers(0, 50)),
        st.tuples(st.just("adjust"), st.integers(-2000, 2000).filter(bool)),
        st.tuples(st.just("policy"), st.sampled_from([(100, 1), (500, 3), (1000, 12), (50, 2)])),
    ),
    min_size=5,
    max_size=30,
)


def _check_ledger(w, model, now, purchases_lots):
    lots = list(
        PointsEntry.objects.for_shop(w.shop)
        .filter(points__gt=0)
        .annotate(used=Sum("consumed_by__points"))
    )
    for lot in lots:  # no lot ever gives more than it holds
        assert (lot.used or 0) <= lot.points
    posted = PointsEntry.objects.for_shop(w.shop).aggregate(s=Sum("points"))["s"] or 0
    summary = points_summary(shop=w.shop, customer=w.customer, now=now)
    open_all = sum(lot.points - (lot.used or 0) for lot in lots)
    # The ledger's sum is the open lots (expired or not) less the debt ...
    assert posted == open_all - summary.debt
    # ... and the derived balance agrees with the plain model.
    assert summary.balance == model.balance(now)
    assert summary.debt == model.debt


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
@example(history=[("earn", 10_000), ("wait", 35), ("expire", 0), ("refund", 0)])
@example(history=[("earn", 10_000), ("redeem", 300), ("refund", 0), ("earn", 20_000)])
def test_ledger_matches_a_plain_model_over_random_histories(w, history):
    with transaction.atomic():
        _run_history(w, history)
        transaction.set_rollback(True)


def _run_history(w, history):
    now = T0
    # One month to start with, so that expiry, refunds of expired lots and debts come up often.
    policy = simple_policy(w, at=now, rate_bp=500, months=1)
    model = Model()
    purchases: list = []  # (purchase, model index or None)
    refunded: set[int] = set()
    for op, arg in history:
        if op == "wait":
            now += dt.timedelta(days=arg, hours=1)
        elif op == "earn":
            purchase = earn(w, at=now, amount=arg)
            entry = PointsEntry.objects.for_shop(w.shop).filter(purchase_id=purchase.pk).first()
            expected = arg * policy.earn_rate_bp // 10_000
            assert (entry.points if entry else 0) == expected
            if entry:
                assert entry.policy_id == policy.pk
                model.credit(expected, entry.expires_at, purchase.pk, now)
                purchases.append((purchase, len(model.lots) - 1))
        elif op == "redeem":
            ok = model.balance(now) >= arg and not model.debt
            try:
                points_redeem(shop=w.shop, customer=w.customer, points=arg, now=now)
                assert ok
                model.redeem(arg, now)
            except PointsError as exc:
                assert exc.code == "insufficient_points" and not ok
        elif op == "expire":
            redeemed_before = _sum(w, EntryKind.REDEEM)
            points_expire(shop=w.shop, now=now)
            model.expire(now)
            # Spent points never expire: what was redeemed stays redeemed, and the posted
            # ledger now equals the derived balance.
            assert _sum(w, EntryKind.REDEEM) == redeemed_before
            posted = PointsEntry.objects.for_shop(w.shop).aggregate(s=Sum("points"))["s"] or 0
            assert posted == model.balance(now)
        elif op == "refund":
            candidates = [p for p in purchases if p[0].pk not in refunded]
            if not candidates:
                continue
            purchase, index = candidates[arg % len(candidates)]
            refunded.add(purchase.pk)
            mark_refunded(purchase)
            points_reverse_for_purchase(shop=w.shop, purchase=purchase, now=now)
            model.refund(index, now)
            # Exact: earned + what of it expired + the reversal nets to zero.
            lot = PointsEntry.objects.for_shop(w.shop).get(kind="earn", purchase_id=purchase.pk)
            expired = (
                PointsAllocation.objects.for_shop(w.shop)
                .filter(lot=lot, debit__kind="expire")
                .aggregate(s=Sum("points"))["s"]
                or 0
            )
            reversal = _sum(w, EntryKind.REFUND, purchase_id=purchase.pk)
            assert lot.points - expired + reversal == 0
        elif op == "adjust":
            if arg < 0 and (model.debt or model.balance(now) < -arg):
                with pytest.raises(PointsError):
                    points_adjust(
                        shop=w.shop,
                        customer=w.customer,
                        points=arg,
                        reason="t",
                        user=w.owner,
                        now=now,
                    )
                continue
            entry = points_adjust(
                shop=w.shop, customer=w.customer, points=arg, reason="t", user=w.owner, now=now
            )
            if arg > 0:
                model.credit(arg, entry.expires_at, None, now)
            else:
                model.redeem(-arg, now)
        elif op == "policy":
            rate, months = arg
            before = list(
                PointsEntry.objects.for_shop(w.shop)
                .order_by("pk")
                .values_list("pk", "points", "expires_at", "policy_id")
            )
            policy = simple_policy(w, at=now, rate_bp=rate, months=months)
            after = list(
                PointsEntry.objects.for_shop(w.shop)
                .order_by("pk")
                .values_list("pk", "points", "expires_at", "policy_id")
            )
            assert after == before  # earlier lots untouched
        _check_ledger(w, model, now, purchases)


def _sum(w, kind, **filters):
    rows = PointsEntry.objects.for_shop(w.shop).filter(kind=kind, **filters)
    return rows.aggregate(s=Sum("points"))["s"] or 0


def test_refund_after_expiry_takes_back_only_what_had_not_expired(w):
    simple_policy(w, at=T0, rate_bp=1000, months=1)
    purchase = earn(w, at=T0, amount=10_000)  # 1,000
    points_redeem(shop=w.shop, customer=w.customer, points=400, now=T0 + DAY)
    points_expire(shop=w.shop, now=T0 + 40 * DAY)  # 600 expire
    earn(w, at=T0 + 41 * DAY, amount=20_000)  # 2,000
    mark_refunded(purchase)
    debit = points_reverse_for_purchase(shop=w.shop, purchase=purchase, now=T0 + 42 * DAY)
    assert debit.points == -400
    assert balance(w, T0 + 42 * DAY) == 1600


def test_nightly_expiry_task_expires_each_shop(w, other):
    from dangol.loyalty.tasks import points_expire_task

    simple_policy(w, at=T0 - 400 * DAY, rate_bp=1000, months=1)
    earn(w, at=T0 - 300 * DAY, amount=10_000)
    assert points_expire_task.call_local(w.shop.pk) == 1000
    assert points_expire_task.call_local(other.shop.pk) == 0
