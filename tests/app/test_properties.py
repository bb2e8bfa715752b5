"""Property tests: consent is derived from an append-only ledger; search finds every fragment."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangol.customers.models import ConsentKind, ConsentSource
from dangol.customers.search import query_tokens, search_tokens_for
from dangol.customers.selectors import consent_current
from dangol.customers.services import ConsentInput, consent_record

HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
events = st.lists(
    st.tuples(st.sampled_from(ConsentKind.values), st.booleans(), st.integers(0, 10_000)),
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=events)
def test_current_consent_is_the_latest_event_per_kind(two_shops, history):
    customer = two_shops.a.customer
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    from dangol.customers.models import ConsentEvent

    ConsentEvent.unscoped.filter(customer=customer).delete()
    expected: dict[str, tuple[int, int, bool]] = {}
    for order, (kind, granted, minute) in enumerate(history):
        consent_record(
            customer=customer,
            data=ConsentInput(
                kind=kind,
                granted=granted,
                source=ConsentSource.STAFF,
                occurred_at=start + dt.timedelta(minutes=minute),
            ),
        )
        if kind not in expected or (minute, order) >= expected[kind][:2]:
            expected[kind] = (minute, order, granted)
    state = {c.kind: c.granted for c in consent_current(customer=customer)}
    assert set(state) == set(ConsentKind.values)
    for kind in ConsentKind.values:
        assert state[kind] == (expected[kind][2] if kind in expected else False)


@settings(max_examples=200)
@given(name=st.text(HANGUL, min_size=1, max_size=6), data=st.data())
def test_every_fragment_of_a_name_finds_it(name, data):
    tokens = search_tokens_for(shop_id=1, name=name, phone_e164="+821012345678")
    start = data.draw(st.integers(0, len(name) - 1))
    end = data.draw(st.integers(start + 1, len(name)))
    for token in query_tokens(shop_id=1, query=name[start:end]):
        assert f" {token} " in tokens
    assert f" {query_tokens(shop_id=1, query='5678')[0]} " in tokens
    assert search_tokens_for(shop_id=2, name=name, phone_e164="+821012345678") != tokens
