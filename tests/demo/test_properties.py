"""Property test: the generator's invariants hold for any small size, period and seed."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangol.demo.generator import CONSENT_KINDS, PATTERNS, generate_demo, ground_truth_json

from .helpers import local, visits_by_customer


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.integers(1, 60),
    months=st.integers(1, 6),
    seed=st.integers(-(2**63), 2**63),
    end=st.dates(date(2016, 1, 1), date(2034, 12, 31)),
)
def test_invariants(customers, months, seed, end):
    ds = generate_demo(customers=customers, months=months, seed=seed, end=end)
    assert len(ds.customers) == customers
    assert ds.start <= ds.end == end
    ps = ds.purchases
    assert [p.occurred_at for p in ps] == sorted(p.occurred_at for p in ps)
    assert len({p.external_id for p in ps}) == len(ps)
    assert len({c.phone for c in ds.customers}) == customers
    prices = {p.sku: p.price for p in ds.products}
    for p in ps:
        assert p.occurred_at.utcoffset() == timedelta(0)
        t = local(p.occurred_at)
        assert 8 <= t.hour < 22 and ds.start <= t.date() <= ds.end
        assert p.lines
        assert p.total == sum(x.quantity * x.unit_price for x in p.lines) - p.discount >= 0
        assert all(prices[x.sku] == x.unit_price for x in p.lines)
    visits = visits_by_customer(ds)
    gt = ds.ground_truth["customers"]
    for c in ds.customers:
        assert c.pattern in PATTERNS
        mine = visits[c.key]
        assert mine and c.joined_at == mine[0].occurred_at
        assert c.consents[0].kind == "pipa_collection" and c.consents[0].granted
        for e in c.consents:
            assert e.kind in CONSENT_KINDS and e.at.utcoffset() == timedelta(0)
        last = local(mine[-1].occurred_at).date()
        if c.pattern == "one_timer":
            assert len(mine) == 1
        if c.pattern == "broken_habit":
            assert (end - last).days > 14
        if c.pattern == "lapsed":
            assert last < gt[c.key]["churn_date"] <= end - timedelta(days=60)
        if c.pattern == "summer_only":
            assert all(local(p.occurred_at).month in (6, 7, 8) for p in mine)
    ground_truth_json(ds)
