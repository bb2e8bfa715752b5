"""Merging two customers and undoing it: every row moves and comes back, the stricter consent
wins, merged customers leave segments, and what cannot be merged is refused."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dangol.customers import merging
from dangol.customers.merging import (
    MergeError,
    UnknownRelation,
    customer_merge,
    customer_relations,
    customer_unmerge,
)
from dangol.customers.models import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    Customer,
    CustomerIdentity,
    CustomerMerge,
)
from dangol.customers.resolution import customer_resolve
from dangol.customers.selectors import consent_current
from dangol.customers.services import ConsentInput, consent_record
from dangol.loyalty.models import PointsEntry, ReferralCode
from dangol.loyalty.points import points_bonus
from dangol.loyalty.referrals import referral_code_issue
from dangol.sales.models import CustomerStats, Purchase
from dangol.sales.services import customer_stats_rebuild
from dangol.segments.selectors import segment_members
from dangol.segments.services import segment_create, segment_refresh
from dangol.web.merge_services import customer_merge_with_totals, customer_unmerge_with_totals
from tests.app.factories import make_customer, make_purchases

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
_tokens = itertools.count(1)
# Tables a merge record and the derived totals live in: compared apart.
NOT_SNAPSHOT = {"customers.CustomerMerge", "customers.MergeDismissal"}


def _snapshot(*customers: Customer, skip_consents: set[int] = frozenset()) -> dict:
    """Every row of every table that points at these customers, with all its values."""
    ids = [c.pk for c in customers]
    tables: dict[str, list] = {}
    by_model: dict = {}
    for field in customer_relations().values():
        label = field.model._meta.label
        if label not in NOT_SNAPSHOT:
            by_model.setdefault(field.model, []).append(field)
    for model, fields in by_model.items():
        rows = set()
        for field in fields:
            for obj in model._base_manager.filter(**{f"{field.attname}__in": ids}):
                if model is ConsentEvent and obj.pk in skip_consents:
                    continue
                values = model_to_dict(obj, fields=[f.name for f in model._meta.concrete_fields])
                rows.add((obj.pk, repr(sorted(values.items()))))
        tables[model._meta.label] = sorted(rows)
    tables["customers.Customer"] = [
        model_to_dict(c) for c in Customer._base_manager.filter(pk__in=ids).order_by("pk")
    ]
    return tables


def _latest(customer: Customer) -> dict[str, bool]:
    latest = {}
    for event in ConsentEvent.unscoped.filter(customer=customer).order_by("occurred_at", "pk"):
        latest[event.kind] = event.granted
    return latest


consents = st.lists(
    st.tuples(st.sampled_from(ConsentKind.values), st.booleans(), st.integers(0, 5000)),
    max_size=8,
)
side = st.fixed_dictionaries(
    {
        "days": st.lists(st.integers(1, 300), max_size=3),
        "consents": consents,
        "cards": st.integers(0, 2),
        "points": st.lists(st.integers(1, 500), max_size=2),
        "referral_code": st.booleans(),
    }
)


def _history(w, customer, plan) -> None:
    shop = w.shop
    if plan["days"]:
        make_purchases(shop, w.store, w.product, customer, days_ago=plan["days"])
    for kind, granted, minute in plan["consents"]:
        consent_record(
            customer=customer,
            data=ConsentInput(
                kind=kind,
                granted=granted,
                source=ConsentSource.STAFF,
                occurred_at=START + dt.timedelta(minutes=minute),
            ),
        )
    for _ in range(plan["cards"]):
        customer_resolve(
            shop=shop, phone=customer.phone, identities=[("card_token", f"tok-{next(_tokens)}")]
        )
    for points in plan["points"]:
        points_bonus(shop=shop, customer=customer, points=points, reason="test")
    if plan["referral_code"]:
        referral_code_issue(shop=shop, customer=customer)


@settings(
    max_examples=25,
    deadline=None,
    # Each example writes a few dozen rows: report the failing one without a long shrink.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(left=side, right=side)
def test_merge_then_undo_restores_every_row(two_shops, left, right):
    w = two_shops.a
    with transaction.atomic():
        keep = make_customer(w.shop, name="김하늘")
        merge = make_customer(w.shop, name="김하늘", email=f"s{next(_tokens)}@example.com")
        _history(w, keep, left)
        _history(w, merge, right)
        customer_stats_rebuild(shop=w.shop, customer_ids=[keep.pk, merge.pk])
        before = _snapshot(keep, merge)
        keep_latest, merge_latest = _latest(keep), _latest(merge)
        granted_before = ConsentEvent.unscoped.filter(granted=True).count()
        merge_purchases = Purchase.unscoped.filter(customer=merge).count()
        merge_points = PointsEntry.unscoped.filter(customer=merge).count()

        record = customer_merge_with_totals(shop=w.shop, keep=keep, merge=merge, user=w.owner)

        merge.refresh_from_db()
        assert merge.merged_into_id == keep.pk
        # Everything of the merged customer is now the kept customer's...
        assert Purchase.unscoped.filter(customer=merge).count() == 0
        assert Purchase.unscoped.filter(customer=keep).count() == len(left["days"]) + len(
            right["days"]
        )
        assert PointsEntry.unscoped.filter(customer=merge).count() == 0
        assert CustomerIdentity.unscoped.filter(customer=merge).count() == 0
        assert len(record.moved.get("sales.Purchase.customer", [])) == merge_purchases
        assert len(record.moved.get("loyalty.PointsEntry.customer", [])) == merge_points
        # ...except a second referral code, which a customer can have only one of.
        if left["referral_code"] and right["referral_code"]:
            assert ReferralCode.unscoped.filter(customer=merge).count() == 1
            assert record.kept_back["loyalty.ReferralCode.customer"]
        stats = CustomerStats.unscoped.filter(customer=keep).first()
        paid = Purchase.unscoped.filter(customer=keep, status="paid").count()
        assert (stats.visits if stats else 0) == paid
        # The stricter consent wins, and a merge never grants.
        now_state = {s.kind: s.granted for s in consent_current(customer=keep)}
        for kind in ConsentKind.values:
            refused = keep_latest.get(kind) is False or merge_latest.get(kind) is False
            if refused:
                assert now_state[kind] is False, kind
            if now_state[kind]:
                assert keep_latest.get(kind) or merge_latest.get(kind)
        assert ConsentEvent.unscoped.filter(granted=True).count() == granted_before
        written = ConsentEvent.unscoped.filter(pk__in=record.consent_events)
        assert all(not e.granted and e.source == "merge" for e in written)
        # A refusal of the merged side is written for the kept customer unless its own
        # latest event already refuses.
        assert {e.kind for e in written} >= {
            k
            for k in ConsentKind.values
            if merge_latest.get(k) is False and keep_latest.get(k) is not False
        }

        customer_unmerge_with_totals(shop=w.shop, merge_record=record, user=w.owner)

        keep.refresh_from_db()
        merge.refresh_from_db()
        assert merge.merged_into_id is None
        assert _snapshot(keep, merge, skip_consents=set(record.consent_events)) == before
        # The refusals the merge wrote stay: an opt-out is never undone.
        assert ConsentEvent.unscoped.filter(pk__in=record.consent_events).count() == len(
            record.consent_events
        )
        after = {s.kind: s.granted for s in consent_current(customer=keep)}
        for kind in ConsentKind.values:
            if keep_latest.get(kind) is False or merge_latest.get(kind) is False:
                assert after[kind] is False
            else:
                assert after[kind] == bool(keep_latest.get(kind))
        transaction.set_rollback(True)


def test_merge_never_creates_a_grant_and_a_refusal_wins_whatever_its_age(two_shops):
    shop = two_shops.a.shop
    keep = make_customer(shop)
    merge = make_customer(shop)

    def record(customer, kind, granted, minute):
        consent_record(
            customer=customer,
            data=ConsentInput(
                kind=kind,
                granted=granted,
                source=ConsentSource.STAFF,
                occurred_at=START + dt.timedelta(minutes=minute),
            ),
        )

    record(keep, ConsentKind.AD_SMS, True, 10)  # newer grant on the kept side
    record(merge, ConsentKind.AD_SMS, False, 5)  # older refusal on the merged side
    record(keep, ConsentKind.AD_KAKAO, False, 1)  # older refusal on the kept side
    record(merge, ConsentKind.AD_KAKAO, True, 50)  # newer grant on the merged side
    record(keep, ConsentKind.AD_EMAIL, False, 60)  # the kept side's latest is the refusal
    record(merge, ConsentKind.AD_EMAIL, True, 20)
    result = customer_merge(shop=shop, keep=keep, merge=merge, user=two_shops.a.owner)
    state = {s.kind: s for s in consent_current(customer=keep)}
    assert not state[ConsentKind.AD_SMS].granted and state[ConsentKind.AD_SMS].source == "merge"
    assert not state[ConsentKind.AD_KAKAO].granted
    assert not state[ConsentKind.AD_EMAIL].granted
    written = ConsentEvent.unscoped.filter(pk__in=result.consent_events)
    # The kept customer's own latest refusal needed no new event.
    assert sorted(e.kind for e in written) == ["ad_kakao", "ad_sms"]
    assert all(f"#{merge.pk}" in e.evidence and f"#{keep.pk}" in e.evidence for e in written)
    assert not written.filter(granted=True).exists()


def test_merged_customer_leaves_segments_and_comes_back_after_undo(two_shops):
    w = two_shops.a
    keep, merge = w.customer, make_customer(w.shop, name="김민지", phone="010-4444-2222")
    make_purchases(w.shop, w.store, w.product, merge, days_ago=[3])
    segment = segment_create(
        shop=w.shop, name="방문", rule={"condition": "visits", "op": "gte", "value": 1}
    )
    customer_stats_rebuild(shop=w.shop, customer_ids=[keep.pk, merge.pk])
    segment_refresh(segment=segment)
    assert {keep.pk, merge.pk} <= set(
        segment_members(shop=w.shop, segment=segment).values_list("pk", flat=True)
    )
    record = customer_merge_with_totals(shop=w.shop, keep=keep, merge=merge, user=w.owner)
    segment_refresh(segment=segment)
    members = set(segment_members(shop=w.shop, segment=segment).values_list("pk", flat=True))
    assert keep.pk in members and merge.pk not in members
    assert CustomerStats.unscoped.get(customer=keep).visits == 4
    customer_unmerge_with_totals(shop=w.shop, merge_record=record, user=w.owner)
    segment_refresh(segment=segment)
    members = set(segment_members(shop=w.shop, segment=segment).values_list("pk", flat=True))
    assert {keep.pk, merge.pk} <= members
    assert CustomerStats.unscoped.get(customer=keep).visits == 3


def test_customers_of_two_shops_cannot_be_merged(two_shops):
    with pytest.raises(MergeError):
        customer_merge(
            shop=two_shops.a.shop,
            keep=two_shops.a.customer,
            merge=two_shops.b.customer,
            user=two_shops.a.owner,
        )
    with pytest.raises(MergeError):
        customer_merge(
            shop=two_shops.b.shop,
            keep=two_shops.a.customer,
            merge=two_shops.b.customer,
            user=two_shops.b.owner,
        )
    assert not Customer.unscoped.filter(merged_into__isnull=False).exists()
    assert not CustomerMerge.unscoped.exists()


def test_a_customer_is_not_merged_twice_nor_into_itself(two_shops):
    shop, keep = two_shops.a.shop, two_shops.a.customer
    merge = make_customer(shop)
    third = make_customer(shop)
    with pytest.raises(MergeError):
        customer_merge(shop=shop, keep=keep, merge=keep, user=None)
    customer_merge(shop=shop, keep=keep, merge=merge, user=None)
    with pytest.raises(MergeError):
        customer_merge(shop=shop, keep=third, merge=merge, user=None)
    with pytest.raises(MergeError):
        customer_merge(shop=shop, keep=merge, merge=third, user=None)


def test_undo_twice_is_refused_and_a_later_merge_must_be_undone_first(two_shops):
    shop, keep = two_shops.a.shop, two_shops.a.customer
    merge, outer = make_customer(shop), make_customer(shop)
    first = customer_merge(shop=shop, keep=keep, merge=merge, user=None)
    second = customer_merge(shop=shop, keep=outer, merge=keep, user=None)
    merge.refresh_from_db()
    # The earlier merged customer follows its kept customer into the new one.
    assert merge.merged_into_id == outer.pk
    with pytest.raises(MergeError):
        customer_unmerge(shop=shop, merge_record=first, user=None)
    customer_unmerge(shop=shop, merge_record=second, user=None)
    customer_unmerge(shop=shop, merge_record=first, user=None)
    with pytest.raises(MergeError):
        customer_unmerge(shop=shop, merge_record=first, user=None)
    assert not Customer.unscoped.filter(merged_into__isnull=False).exists()
    with pytest.raises(MergeError):
        customer_unmerge(shop=two_shops.b.shop, merge_record=first, user=None)


def test_an_unknown_reference_to_customers_stops_the_merge(two_shops, monkeypatch):
    shop, keep = two_shops.a.shop, two_shops.a.customer
    merge = make_customer(shop)
    make_purchases(shop, two_shops.a.store, two_shops.a.product, merge, days_ago=[1])
    relations = dict(merging.RELATIONS)
    relations.pop("loyalty.Checkin.customer")
    monkeypatch.setattr(merging, "RELATIONS", relations)
    with pytest.raises(UnknownRelation, match=r"loyalty\.Checkin\.customer"):
        customer_merge(shop=shop, keep=keep, merge=merge, user=None)
    assert Purchase.unscoped.filter(customer=merge).count() == 1


def test_every_reference_to_customers_has_a_merge_rule():
    assert set(customer_relations()) == set(merging.RELATIONS)


def test_an_erased_customer_is_not_merged(two_shops):
    from dangol.privacy.models import Erasure

    shop, keep = two_shops.a.shop, two_shops.a.customer
    merge = make_customer(shop)
    Erasure.unscoped.create(shop=shop, customer=merge, source="request")
    with pytest.raises(MergeError):
        customer_merge(shop=shop, keep=keep, merge=merge, user=None)


def test_merge_and_undo_are_in_the_access_log(two_shops):
    from dangol.audit.models import AuditEvent

    shop, keep = two_shops.a.shop, two_shops.a.customer
    merge = make_customer(shop)
    record = customer_merge(shop=shop, keep=keep, merge=merge, user=two_shops.a.owner)
    customer_unmerge(shop=shop, merge_record=record, user=two_shops.a.owner)
    logged = AuditEvent.unscoped.filter(shop=shop, object_id=str(record.pk))
    assert sorted(logged.values_list("object_type", "customer_id")) == sorted(
        [
            ("customer_merge", keep.pk),
            ("customer_merge", merge.pk),
            ("customer_unmerge", keep.pk),
            ("customer_unmerge", merge.pk),
        ]
    )
    assert set(logged.values_list("username", flat=True)) == {"owner-alpha"}
