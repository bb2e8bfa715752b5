"""The demo café generator: interface, determinism and the planted habits."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from datetime import date, timedelta

import pytest

from dangol.demo.generator import (
    CONSENT_KINDS,
    PATTERN_SHARES,
    PATTERNS,
    DemoDataset,
    generate_demo,
    ground_truth_json,
)

from .helpers import (
    detect_broken_habits,
    detect_lapsed,
    keys_of,
    local,
    local_days,
    visits_by_customer,
)

PHONE = re.compile(r"^010-\d{4}-\d{4}$")


def purchases_hash(dataset: DemoDataset) -> str:
    h = hashlib.sha256()
    for p in dataset.purchases:
        h.update(repr(p).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------- interface


def test_default_size_and_speed(demo, timed_default):
    _, seconds = timed_default
    assert len(demo.customers) == 2000
    assert demo.end == date(2025, 6, 30)
    assert demo.start == date(2024, 1, 1)  # 18 whole months ending on ``end``
    assert seconds < 15, f"generation took {seconds:.1f}s"  # ~1 s on a laptop


def test_shop_stores_and_menu(demo):
    assert demo.shop_name == "단골커피"
    assert demo.category == "cafe"
    assert re.fullmatch(r"080-\d{3}-\d{4}", demo.optout_080)
    assert demo.sender_numbers and demo.phone in demo.sender_numbers
    assert [s.code for s in demo.stores] == ["gangnam", "seongsu"]
    assert all(s.name.startswith("단골커피 ") and s.address for s in demo.stores)
    assert 20 <= len(demo.products) <= 30
    assert len({p.sku for p in demo.products}) == len(demo.products)
    assert {p.category for p in demo.products} == {"커피", "논커피", "디저트", "베이커리", "시즌"}
    for p in demo.products:
        assert 0.2 <= p.unit_cost / p.price <= 0.4, p
    americano = next(p for p in demo.products if p.name == "아메리카노")
    assert americano.price == 4500


def test_deterministic_and_seed_sensitive():
    args = {"customers": 250, "months": 12, "end": date(2025, 3, 31)}
    a = generate_demo(seed=7, **args)
    b = generate_demo(seed=7, **args)
    c = generate_demo(seed=8, **args)
    assert ground_truth_json(a) == ground_truth_json(b)
    assert purchases_hash(a) == purchases_hash(b)
    assert a == b
    assert purchases_hash(a) != purchases_hash(c)
    assert ground_truth_json(a) != ground_truth_json(c)


def test_progress_reports_every_customer():
    calls = []
    generate_demo(
        customers=30, months=3, end=date(2025, 1, 31), progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(i, 30) for i in range(1, 31)]


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        generate_demo(months=0, end=date(2025, 1, 1))
    with pytest.raises(ValueError):
        generate_demo(customers=-1, end=date(2025, 1, 1))


# --------------------------------------------------------------------------- invariants


def test_purchase_invariants(demo):
    ps = demo.purchases
    skus = {p.sku: p for p in demo.products}
    assert len({p.external_id for p in ps}) == len(ps)
    assert [p.occurred_at for p in ps] == sorted(p.occurred_at for p in ps)
    customers = {c.key for c in demo.customers}
    for p in ps:
        assert p.occurred_at.utcoffset() == timedelta(0)
        t = local(p.occurred_at)
        assert 8 <= t.hour < 22
        assert demo.start <= t.date() <= demo.end
        assert p.lines and all(line.quantity >= 1 for line in p.lines)
        assert all(line.unit_price == skus[line.sku].price for line in p.lines)
        assert p.total == sum(line.quantity * line.unit_price for line in p.lines) - p.discount
        assert p.discount >= 0 and p.total >= 0
        assert p.status in ("paid", "refunded")
        assert p.customer_key is None or p.customer_key in customers
        assert p.external_id.startswith(f"POS-{p.store_code}-")


def test_sales_mix(demo):
    ps = demo.purchases
    n = len(ps)
    assert 0.27 <= sum(p.customer_key is None for p in ps) / n <= 0.33
    assert 0.02 <= sum(p.discount > 0 for p in ps) / n <= 0.06
    assert 0.005 <= sum(p.status == "refunded" for p in ps) / n <= 0.02
    items = Counter(len(p.lines) for p in ps)
    assert sum(items[k] for k in (1, 2, 3)) / n > 0.85
    by_store = Counter(p.store_code for p in ps)
    assert set(by_store) == {"gangnam", "seongsu"}


def test_seasonal_menu(demo):
    season = {p.sku for p in demo.products if p.category == "시즌"}
    bingsu = {p.sku for p in demo.products if "빙수" in p.name}
    months = Counter()
    for p in demo.purchases:
        m = local(p.occurred_at).month
        for line in p.lines:
            if line.sku in bingsu:
                assert m in (6, 7, 8)
                months[m] += 1
            if line.sku in season:
                months["season"] += 1
    assert months[7] + months[8] + months[6] > 100
    iced = next(p.sku for p in demo.products if p.name == "아이스 아메리카노")
    summer = [p for p in demo.purchases if local(p.occurred_at).month in (7, 8)]
    winter = [p for p in demo.purchases if local(p.occurred_at).month in (1, 2)]

    def share(ps):
        return sum(any(line.sku == iced for line in p.lines) for p in ps) / len(ps)

    assert share(summer) > 1.3 * share(winter)


def test_customers_look_real(demo):
    cs = demo.customers
    phones = [c.phone for c in cs]
    assert len(set(phones)) == len(phones)
    assert all(PHONE.match(p) and not p.startswith("010-0000") for p in phones)
    assert len({c.key for c in cs}) == len(cs)
    assert cs[0].key == "C00001"
    assert all(re.fullmatch(r"[가-힣]{2,4}", c.name) for c in cs)
    surnames = Counter(c.name[0] for c in cs)
    assert surnames.most_common(3)[0][0] == "김"
    assert 0.15 < surnames["김"] / len(cs) < 0.28
    assert len({c.name for c in cs}) > 600
    assert {c.gender for c in cs} <= {"F", "M", ""}
    emails = [c.email for c in cs if c.email]
    assert 0.35 <= len(emails) / len(cs) <= 0.45
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z.]+", e) for e in emails)
    with_bday = [c for c in cs if c.birthday]
    assert 0.65 <= len(with_bday) / len(cs) <= 0.75
    lunar = [c for c in with_bday if c.birthday_calendar == "lunar"]
    assert 0.06 <= len(lunar) / len(with_bday) <= 0.14
    assert all(c.birthday_calendar in ("solar", "lunar") for c in cs)
    assert all(not c.birthday_leap_month for c in cs if c.birthday_calendar == "solar")
    assert {c.home_store for c in cs} == {"gangnam", "seongsu"}


def test_leap_month_birthdays_are_valid(demo):
    from korean_lunar_calendar import KoreanLunarCalendar

    cal = KoreanLunarCalendar()
    for c in demo.customers:
        if c.birthday_calendar == "lunar":
            b = c.birthday
            assert cal.setLunarDate(b.year, b.month, b.day, c.birthday_leap_month), c


def test_joined_at_is_first_purchase(demo):
    visits = visits_by_customer(demo)
    for c in demo.customers:
        assert c.joined_at == visits[c.key][0].occurred_at
    joins = Counter(local(c.joined_at).date().replace(day=1) for c in demo.customers)
    assert len(joins) >= 17  # staggered over the whole period


def test_consents(demo):
    cs = demo.customers
    n = len(cs)
    granted = Counter()
    withdrawn = 0
    for c in cs:
        first = c.consents[0]
        assert (first.kind, first.granted, first.at) == ("pipa_collection", True, c.joined_at)
        assert [e.at for e in c.consents] == sorted(e.at for e in c.consents)
        for e in c.consents:
            assert e.kind in CONSENT_KINDS
            assert e.source in ("tablet", "staff", "import")
            assert e.at.utcoffset() == timedelta(0) and e.at >= c.joined_at
            assert local(e.at).date() <= demo.end
            if e.granted:
                granted[e.kind] += 1
        revoked = [e for e in c.consents if not e.granted]
        withdrawn += bool(revoked)
        for e in revoked:
            assert any(g.kind == e.kind and g.granted and g.at < e.at for g in c.consents)
        if any(e.kind == "ad_email" for e in c.consents):
            assert c.email
    assert granted["pipa_collection"] == n
    with_email = sum(c.email is not None for c in cs)
    assert abs(granted["pipa_marketing"] / n - 0.60) < 0.05
    assert abs(granted["ad_sms"] / n - 0.55) < 0.05
    assert abs(granted["ad_kakao"] / n - 0.50) < 0.05
    assert abs(granted["ad_email"] / with_email - 0.30) < 0.06
    assert abs(granted["ad_push"] / n - 0.20) < 0.04
    assert abs(granted["ad_night"] / n - 0.10) < 0.03
    assert 0.03 <= withdrawn / n <= 0.08


# --------------------------------------------------------------------------- planted habits


def test_pattern_shares(demo):
    counts = Counter(c.pattern for c in demo.customers)
    assert set(counts) == set(PATTERNS)
    for pattern, share in PATTERN_SHARES.items():
        assert abs(counts[pattern] / len(demo.customers) - share) <= 0.01, pattern
    gt = ground_truth_json(demo)
    assert {p: len(keys) for p, keys in gt["patterns"].items()} == dict(counts)


def test_ground_truth_is_json_and_complete(demo):
    gt = ground_truth_json(demo)
    again = json.loads(json.dumps(gt, ensure_ascii=False))
    assert again == gt
    assert gt["seed"] == 42 and gt["end"] == "2025-06-30"
    assert set(gt["customers"]) == {c.key for c in demo.customers}
    for key, info in gt["customers"].items():
        for field in (
            "pattern",
            "favourite_weekday",
            "favourite_hour",
            "churn_date",
            "habit_broke_on",
            "planted_gap_days",
        ):
            assert field in info, (key, field)
    for key in gt["patterns"]["lapsed"]:
        assert gt["customers"][key]["churn_date"]
    for key in gt["patterns"]["broken_habit"]:
        assert gt["customers"][key]["habit_broke_on"]
    for key in gt["patterns"]["weekly_regular"] + gt["patterns"]["thursday_group"]:
        info = gt["customers"][key]
        assert info["planted_gap_days"] == 7 and 0 <= info["favourite_weekday"] <= 6
        assert 8 <= info["favourite_hour"] <= 21


def test_one_timers_visit_once(demo):
    visits = visits_by_customer(demo)
    assert all(len(visits[k]) == 1 for k in keys_of(demo, "one_timer"))


def test_weekly_regulars(demo):
    visits = visits_by_customer(demo)
    gt = demo.ground_truth["customers"]
    on_fav_day = on_fav_hour = total = 0
    for key in keys_of(demo, "weekly_regular"):
        ps = visits[key]
        days = local_days(ps)
        weeks = max((days[-1] - days[0]).days / 7, 1)
        assert len(set(days)) / weeks >= 0.6, key
        assert (demo.end - days[-1]).days < 14  # intact
        on_fav_day += sum(d.weekday() == gt[key]["favourite_weekday"] for d in days)
        on_fav_hour += sum(local(p.occurred_at).hour == gt[key]["favourite_hour"] for p in ps)
        total += len(ps)
    assert on_fav_day / total > 0.8
    assert on_fav_hour / total > 0.7


def test_thursday_group(demo):
    visits = visits_by_customer(demo)
    thursday = total = 0
    for key in keys_of(demo, "thursday_group"):
        days = local_days(visits[key])
        thursday += sum(d.weekday() == 3 for d in days)
        total += len(days)
        assert sum(d.weekday() == 3 for d in days) / len(days) >= 0.7, key
        assert (demo.end - days[-1]).days < 14  # intact
    assert thursday / total >= 0.8


def test_broken_habits(demo):
    visits = visits_by_customer(demo)
    gt = demo.ground_truth["customers"]
    keys = keys_of(demo, "broken_habit")
    thursday = 0
    weekly_rates = []
    for key in keys:
        days = sorted(set(local_days(visits[key])))
        silent = (demo.end - days[-1]).days
        assert 14 < silent <= 28, key
        assert gt[key]["habit_broke_on"] == days[-1]
        assert len(days) >= 6
        weeks = (days[-1] - days[0]).days / 7
        weekly_rates.append(len(days) / weeks)
        assert weekly_rates[-1] >= 0.7, key  # reliable before the break
        thursday += gt[key]["favourite_weekday"] == 3
    assert sum(weekly_rates) / len(weekly_rates) >= 0.85
    assert 0.3 <= thursday / len(keys) <= 0.7


def test_lapsed(demo):
    visits = visits_by_customer(demo)
    gt = demo.ground_truth["customers"]
    for key in keys_of(demo, "lapsed"):
        churn = gt[key]["churn_date"]
        days = local_days(visits[key])
        assert max(days) < churn, key
        assert (demo.end - churn).days >= 60
        assert len(set(days)) >= 4


def test_summer_only(demo):
    visits = visits_by_customer(demo)
    for key in keys_of(demo, "summer_only"):
        assert all(d.month in (6, 7, 8) for d in local_days(visits[key])), key


def test_office_lunch(demo):
    visits = visits_by_customer(demo)
    ps = [p for key in keys_of(demo, "office_lunch") for p in visits[key]]
    lunch = sum(
        local(p.occurred_at).weekday() < 5 and 11 <= local(p.occurred_at).hour < 14 for p in ps
    )
    assert lunch / len(ps) >= 0.9
    assert sum(p.store_code == "gangnam" for p in ps) / len(ps) >= 0.9


def test_weekend_family(demo):
    visits = visits_by_customer(demo)
    ps = [p for key in keys_of(demo, "weekend_family") for p in visits[key]]
    assert sum(local(p.occurred_at).weekday() >= 5 for p in ps) / len(ps) >= 0.9
    assert sum(13 <= local(p.occurred_at).hour < 17 for p in ps) / len(ps) >= 0.9
    assert sum(p.store_code == "seongsu" for p in ps) / len(ps) >= 0.7
    family_items = sum(sum(line.quantity for line in p.lines) for p in ps) / len(ps)
    family = set(keys_of(demo, "weekend_family"))
    others = [p for p in demo.purchases if p.customer_key and p.customer_key not in family]
    other_items = sum(sum(line.quantity for line in p.lines) for p in others) / len(others)
    assert family_items > 2 * other_items


def test_frequencies_by_pattern(demo):
    visits = visits_by_customer(demo)

    def median_gap(pattern):
        gaps = []
        for key in keys_of(demo, pattern):
            days = sorted(set(local_days(visits[key])))
            gaps += [(b - a).days for a, b in itertools.pairwise(days)]
        gaps.sort()
        return gaps[len(gaps) // 2]

    assert median_gap("weekly_regular") == 7
    assert 13 <= median_gap("biweekly") <= 15
    assert 26 <= median_gap("monthly") <= 34


@pytest.mark.parametrize("fixture", ["demo", "autumn_demo"])
def test_planted_signal_is_findable(fixture, request):
    """Even naive rules recover broken habits and lapsed customers with P/R ≥ 0.9."""
    dataset = request.getfixturevalue(fixture)
    for pattern, detect in (("broken_habit", detect_broken_habits), ("lapsed", detect_lapsed)):
        truth = set(keys_of(dataset, pattern))
        found = detect(dataset)
        hits = len(truth & found)
        assert hits / len(found) >= 0.9, (pattern, "precision")
        assert hits / len(truth) >= 0.9, (pattern, "recall")
