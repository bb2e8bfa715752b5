"""The segment engine: one query per rule, equal to a plain-Python evaluator on random rules
and random data; validation with field paths; memberships with entries and exits; birthdays."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangol.core.tenancy import shop_scope
from dangol.customers.models import Customer
from dangol.customers.services import ConsentInput, consent_record
from dangol.sales.models import Product
from dangol.sales.services import (
    LineInput,
    PurchaseInput,
    product_bulk_create,
    purchase_bulk_create,
)
from dangol.scoring.models import CustomerScore, CustomerStatus, RfmSegment, RunStatus, ScoringRun
from dangol.segments.engine import context_for, customers_matching
from dangol.segments.models import SegmentMembership
from dangol.segments.rules import RuleError
from dangol.segments.selectors import parse_rule, segment_history
from dangol.segments.services import segment_create, segment_refresh
from dangol.shops.services import store_create
from tests.app import segment_reference as ref
from tests.app.factories import make_customer, make_purchases, make_shop

NOW = dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)  # 10:30 in Seoul


@pytest.fixture
def world(db):
    """A shop with 45 customers, purchases over 400 days (some near local midnight), products
    in two categories, two stores, consents, birthdays (solar, lunar, leap, 29 Feb) and scores."""
    rng = random.Random(20261120)
    shop, store, _owner, product = make_shop("world")
    second = store_create(shop=shop, code="second", name="둘째 지점")
    extra = product_bulk_create(
        shop=shop,
        products=[
            Product(sku="CAKE", name="케이크", category="디저트", price=6500),
            Product(sku="TEA", name="녹차", category="차", price=5000),
        ],
    )
    products = [product, *extra]
    birthdays = [
        (dt.date(1990, 11, 25), "solar", False),
        (dt.date(1988, 2, 29), "solar", False),
        (dt.date(1992, 10, 20), "lunar", False),
        (dt.date(1985, 10, 30), "lunar", False),
        (dt.date(1995, 6, 2), "lunar", True),
        (dt.date(2000, 12, 3), "solar", False),
        (None, "solar", False),
    ]
    customers = []
    for i in range(45):
        bday, cal, leap = birthdays[i % len(birthdays)]
        customers.append(
            make_customer(
                shop,
                name=f"손님{i}",
                birthday=bday,
                birthday_calendar=cal,
                birthday_leap_month=leap,
                home_store=(store, second, None)[i % 3],
            )
        )
    rows = []
    for i, c in enumerate(customers):
        for k in range(rng.choice([0, 1, 2, 3, 5, 8, 13])):
            days_ago = rng.choice([0, 1, 6, 7, 29, 30, 31, 59, 60, 61, 89, 90, 91, 200, 399])
            # Around local midnight: 23:59 and 00:00 in Seoul fall on different days.
            minute = rng.choice([0, 1, 14 * 60, 23 * 60 + 59])
            local = dt.datetime.combine(
                NOW.date() - dt.timedelta(days=days_ago), dt.time()
            ) + dt.timedelta(minutes=minute)
            when = (local - dt.timedelta(hours=9)).replace(tzinfo=dt.UTC)
            if when > NOW:
                continue
            item = products[(i + k) % 3]
            rows.append(
                PurchaseInput(
                    store_id=store.pk,
                    customer_id=c.pk,
                    source="pos",
                    external_id=f"W-{i}-{k}",
                    occurred_at=when,
                    status=rng.choice(["paid"] * 6 + ["refunded"]),
                    lines=[
                        LineInput(
                            product=item,
                            name=item.name,
                            quantity=rng.randint(1, 3),
                            unit_price=item.price,
                        )
                    ],
                )
            )
    purchase_bulk_create(shop=shop, rows=rows)
    for c in customers[::2]:
        for kind in ("ad_sms", "ad_kakao"):
            for granted in rng.sample([True, False, True], rng.randint(1, 3)):
                consent_record(
                    customer=c,
                    data=ConsentInput(
                        kind=kind,
                        granted=granted,
                        source="staff",
                        occurred_at=NOW - dt.timedelta(days=rng.randint(0, 3)),
                    ),
                )
    run = ScoringRun.unscoped.create(
        shop=shop,
        model_version="test",
        as_of=NOW.date(),
        status=RunStatus.SUCCEEDED,
        finished_at=NOW,
    )
    statuses, segments = CustomerStatus.values, RfmSegment.values
    CustomerScore.unscoped.bulk_create(
        [
            CustomerScore(
                shop=shop,
                run=run,
                customer=c,
                computed_at=NOW,
                model_version="test",
                status=rng.choice(statuses),
                visits=rng.randint(1, 9),
                first_visit=NOW.date(),
                last_visit=NOW.date(),
                days_since_last=0,
                total_spend=0,
                spend_per_visit=0,
                r_score=3,
                f_score=3,
                m_score=3,
                rfm_segment=rng.choice(segments),
                p_alive=rng.random(),
                expected_visits_90d=rng.random() * 5,
                clv=rng.randint(0, 300_000),
                churn_probability=rng.random(),
                value_at_risk=0,
                overdue_ratio=rng.choice([None, rng.random() * 4]),
                expected_next_visit=rng.choice(
                    [None, NOW.date() + dt.timedelta(days=rng.randint(-10, 20))]
                ),
                habit_weekday=rng.randint(1, 7),
            )
            for c in customers
            if rng.random() < 0.85
        ]
    )
    Customer.unscoped.filter(pk=customers[-1].pk).update(merged_into=customers[0])
    return {
        "shop": shop,
        "stores": [store.pk, second.pk],
        "products": [p.pk for p in products],
        "run": run,
    }


def _leaves(world):
    op = st.sampled_from(["gte", "lte", "gt", "lt", "eq"])
    days = st.one_of(st.none(), st.sampled_from([1, 7, 30, 31, 60, 90, 365]))
    small = st.integers(0, 14)
    day_count = st.sampled_from([0, 1, 6, 7, 29, 30, 31, 59, 60, 61, 90, 91, 200, 400])

    def c(key, **params):
        return st.fixed_dictionaries({"condition": st.just(key), **params})

    def maybe_days(key, **params):
        return st.builds(
            lambda base, d: {**base, **({"days": d} if d else {})},
            c(key, **params),
            days,
        )

    return st.one_of(
        maybe_days("visits", op=op, value=small),
        maybe_days("spend", op=op, value=st.sampled_from([0, 4500, 9000, 20000, 60000])),
        c("avg_ticket", op=op, value=st.sampled_from([4500, 5000, 6500, 10000, 15000])),
        c("days_since_last_visit", op=op, value=day_count),
        c("first_visit_days_ago", op=op, value=day_count),
        c(
            "rank",
            measure=st.sampled_from(["avg_ticket", "total_spend", "visits"]),
            top_percent=st.sampled_from([1, 10, 25, 50, 100]),
        ),
        st.builds(
            lambda base, d: {**base, **({"days": d} if d else {})},
            st.one_of(
                c("bought", products=st.lists(st.sampled_from(world["products"]), min_size=1)),
                c(
                    "bought",
                    categories=st.lists(st.sampled_from(["디저트", "차", "커피"]), min_size=1),
                ),
            ),
            days,
        ),
        c(
            "only_months",
            months=st.lists(st.sampled_from([str(m) for m in range(1, 13)]), min_size=1),
        ),
        c("status", values=st.lists(st.sampled_from(CustomerStatus.values), min_size=1)),
        c("rfm_segment", values=st.lists(st.sampled_from(RfmSegment.values), min_size=1)),
        c("churn_probability", op=op, value=st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0])),
        c("p_alive", op=op, value=st.sampled_from([0.0, 0.5, 1.0])),
        c("clv", op=op, value=st.sampled_from([0, 100_000, 300_000])),
        c("overdue_ratio", op=op, value=st.sampled_from([0.0, 1.0, 2.5])),
        c("next_visit_within", days=st.sampled_from([0, 3, 7, 30])),
        c("weekday_habit", weekday=st.sampled_from([str(d) for d in range(1, 8)])),
        c("birthday_within", days=st.sampled_from([0, 5, 7, 30, 60])),
        c("birthday_month", month=st.integers(0, 12)),
        c("consent", channel=st.sampled_from(["sms", "kakao", "email"]), granted=st.booleans()),
        c("home_store", stores=st.lists(st.sampled_from(world["stores"]), min_size=1)),
    )


def _trees(world):
    return st.recursive(
        _leaves(world),
        lambda children: st.one_of(
            st.builds(lambda xs: {"all": xs}, st.lists(children, max_size=3)),
            st.builds(lambda xs: {"any": xs}, st.lists(children, max_size=3)),
            st.builds(lambda x: {"not": x}, children),
        ),
        max_leaves=6,
    )


@pytest.mark.django_db
def test_engine_equals_the_reference_on_random_rules(world):
    shop = world["shop"]
    data = ref.load(shop, now=NOW, run=world["run"])
    with shop_scope(shop):
        ctx = context_for(shop=shop, now=NOW)
        assert ctx.latest_run == world["run"]

        sizes: list[int] = []

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(rule=_trees(world))
        def check(rule):
            node = parse_rule(rule)
            fresh = context_for(shop=shop, now=NOW)
            engine = set(customers_matching(node, fresh).values_list("pk", flat=True))
            assert engine == ref.members(data, rule), rule
            sizes.append(len(engine))

        check()
        # The comparison is only worth something if most rules pick some but not all customers.
        everyone = len(data.customers)
        mixed = sum(0 < n < everyone for n in sizes)
        assert mixed >= 0.4 * len(sizes), (mixed, len(sizes))


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"condition": "visits", "op": "gte", "value": -1}, "value"),
        ({"condition": "visits", "op": "gte", "value": 2, "days": -30}, "days"),
        ({"condition": "visits", "op": "gte", "value": 2, "days": 365_000}, "days"),
        ({"condition": "visits", "op": "~", "value": 2}, "op"),
        ({"condition": "visits", "op": "gte", "value": "2"}, "value"),
        ({"condition": "visits", "op": "gte", "value": 2.5}, "value"),
        ({"condition": "visits", "op": "gte", "value": True}, "value"),
        ({"condition": "visits", "op": "gte"}, "value"),
        ({"condition": "visits", "op": "gte", "value": 1, "extra": 1}, "extra"),
        ({"condition": "<script>alert(1)</script>"}, "condition"),
        ({"all": [{"condition": "status", "values": ["nope"]}]}, "all.0.values"),
        ({"any": [{}, {"condition": "bought"}]}, "any.0"),
        ({"not": {"condition": "churn_probability", "op": "gte", "value": 1.5}}, "not.value"),
        ({"all": "everything"}, "all"),
        ({"all": [], "any": []}, ""),
        ("visits >= 2", ""),
        ({"condition": "birthday_within", "days": 366}, "days"),
        ({"condition": "home_store", "stores": ["1; DROP TABLE"]}, "stores"),
    ],
)
def test_invalid_rules_name_the_field(rule, path):
    with pytest.raises(RuleError) as caught:
        parse_rule(rule)
    paths = [p.path for p in caught.value.problems]
    assert any(p == path or p.endswith("." + path) or (path and p.endswith(path)) for p in paths), (
        paths
    )
    assert all(p.ko and p.en for p in caught.value.problems)


def test_rules_have_a_size_limit():
    deep: dict = {"condition": "visits", "op": "gte", "value": 1}
    for _ in range(10):
        deep = {"not": deep}
    with pytest.raises(RuleError):
        parse_rule(deep)
    wide = {"any": [{"condition": "visits", "op": "gte", "value": k} for k in range(100)]}
    with pytest.raises(RuleError):
        parse_rule(wide)


@pytest.mark.django_db
def test_memberships_record_entries_and_exits():
    shop, store, _owner, product = make_shop("moves")
    a, b = make_customer(shop, name="가"), make_customer(shop, name="나")
    make_purchases(shop, store, product, a, days_ago=[1, 2])
    make_purchases(shop, store, product, b, days_ago=[40])
    with shop_scope(shop):
        segment = segment_create(
            shop=shop,
            name="최근 30일 2회",
            rule={"condition": "visits", "op": "gte", "value": 2, "days": 30},
        )
        assert segment_refresh(segment=segment) == (1, 0)
        assert segment_refresh(segment=segment) == (0, 0)  # nothing changed, nothing written
        make_purchases(shop, store, product, b, days_ago=[0, 1])
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=45)
        # 45 days on, a's visits are out of the window and b's recent ones still count.
        entered, exited = segment_refresh(segment=segment, now=later)
        assert (entered, exited) == (0, 1)
        stays = SegmentMembership.objects.for_shop(shop).filter(segment=segment)
        assert stays.get(customer=a).exited_at == later
        assert not stays.filter(customer=b).exists()
        assert segment_refresh(segment=segment) == (2, 0)  # back to today: both are in
        assert stays.filter(customer=a).count() == 2  # two separate stays, history kept


@pytest.mark.parametrize(
    "rule",
    [
        {"condition": "visits", "op": "gte", "value": 10**400},
        {"condition": "churn_probability", "op": "gte", "value": 10**400},
        {"condition": "churn_probability", "op": "gte", "value": float("nan")},
        {"condition": "bought", "categories": ["커피\x00"]},
        {"condition": "bought", "categories": ["a\nb"]},
        {"any": list(range(10_000))},
    ],
)
def test_hostile_values_are_refused_not_crashed(rule):
    with pytest.raises(RuleError) as caught:
        parse_rule(rule)
    assert 1 <= len(caught.value.problems) <= 50


@pytest.mark.django_db
def test_history_lists_the_latest_event_first():
    shop, store, _owner, product = make_shop("history")
    old, new = make_customer(shop, name="오래된"), make_customer(shop, name="새로운")
    make_purchases(shop, store, product, old, days_ago=[1])
    with shop_scope(shop):
        segment = segment_create(
            shop=shop,
            name="최근 방문",
            rule={"condition": "visits", "op": "gte", "value": 1, "days": 7},
        )
        segment_refresh(segment=segment)  # old enters
        make_purchases(shop, store, product, new, days_ago=[0])
        segment_refresh(segment=segment, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        # six days on, old's visit is out of the window and new's is not: old's exit is the
        # newest event, though old entered first
        segment_refresh(segment=segment, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=6))
        first = segment_history(shop=shop, segment=segment)[0]
    assert first.customer_id == old.pk and first.exited_at is not None
