"""Retention: the nightly task erases exactly the inactive customers, and reports it; erasure
is idempotent and never touches anyone else (property)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangol.audit.models import AuditEvent
from dangol.core.phone import format_phone
from dangol.core.tenancy import shop_scope
from dangol.customers.models import Customer, CustomerIdentity
from dangol.customers.services import ConsentInput, consent_record
from dangol.imports.models import ImportRun
from dangol.imports.services import import_upload
from dangol.messaging.models import OutboxMessage
from dangol.messaging.services import message_enqueue
from dangol.privacy.erasure import _mentions, customer_erase
from dangol.privacy.models import Erasure, RetentionRun
from dangol.privacy.retention import inactive_customers, retention_policy_set
from dangol.privacy.services import dsr_create
from dangol.privacy.tasks import nightly_privacy_run
from tests.app.factories import make_customer, make_purchases

pytestmark = pytest.mark.django_db

YEAR = dt.timedelta(days=365)


def _customer(shop, name, *, age_days):
    return make_customer(shop, name=name, created_at=timezone.now() - dt.timedelta(days=age_days))


def test_nightly_task_erases_exactly_the_inactive_customers(client, two_shops):
    a, b = two_shops.a, two_shops.b
    with shop_scope(a.shop):
        gone = _customer(a.shop, "오래된손님", age_days=4 * 365)
        make_purchases(a.shop, a.store, a.product, gone, days_ago=[3 * 365 + 30])
        buyer = _customer(a.shop, "다시온손님", age_days=4 * 365)
        make_purchases(a.shop, a.store, a.product, buyer, days_ago=[3 * 365, 40])
        consented = _customer(a.shop, "동의한손님", age_days=4 * 365)
        consent_record(
            customer=consented,
            data=ConsentInput(
                kind="ad_sms",
                granted=True,
                source="staff",
                occurred_at=timezone.now() - YEAR,
            ),
        )
        recent = _customer(a.shop, "새손님", age_days=300)
        names_gone = import_upload(
            shop=a.shop,
            kind="customers",
            file_name="g.csv",
            data=f"이름,전화번호\n{gone.name},{format_phone(gone.phone)}\n".encode("cp949"),
        )
        names_buyer = import_upload(
            shop=a.shop,
            kind="customers",
            file_name="b.csv",
            data=f"이름,전화번호\n{buyer.name},{format_phone(buyer.phone)}\n".encode(),
        )
        asked = _customer(a.shop, "삭제요청", age_days=30)
        request = dsr_create(shop=a.shop, customer=asked, kind="deletion")
    with shop_scope(b.shop):
        # Another shop without a policy: its old customers stay.
        theirs = _customer(b.shop, "다른가게", age_days=5 * 365)
    # The policy is off by default: only the deletion request runs.
    assert nightly_privacy_run() == {"requests": 1, "retention": 0}
    assert not RetentionRun.unscoped.exists()
    with shop_scope(a.shop):
        retention_policy_set(shop=a.shop, inactive_years=2, actor=a.owner)
        cutoff = timezone.now() - 2 * YEAR
        assert inactive_customers(shop=a.shop, cutoff=cutoff) == [gone.pk]
    assert nightly_privacy_run() == {"requests": 0, "retention": 1}
    erased = set(Erasure.unscoped.values_list("customer_id", flat=True))
    assert erased == {gone.pk, asked.pk}
    assert Customer.unscoped.get(pk=gone.pk).name == ""
    for kept in (buyer, consented, recent, theirs):
        assert Customer.unscoped.get(pk=kept.pk).name == kept.name
    request.refresh_from_db()
    assert request.status == "done"
    assert ImportRun.unscoped.get(pk=names_gone.pk).stored_as == ""
    assert ImportRun.unscoped.get(pk=names_buyer.pk).stored_as
    run = RetentionRun.unscoped.get(shop=a.shop)
    assert run.erased == 1 and run.inactive_years == 2
    assert AuditEvent.unscoped.filter(object_type="retention_run", rows=1).exists()
    assert AuditEvent.unscoped.filter(action="delete", customer_id=gone.pk, via="task").exists()
    # The report is on the privacy page; a second night erases no one again.
    assert nightly_privacy_run() == {"requests": 0, "retention": 0}
    client.force_login(a.owner)
    body = client.get(reverse("web:privacy_requests")).content.decode()
    assert 'data-erased="1"' in body and 'data-erased="0"' in body


def test_a_large_batch_matches_stored_files_cell_by_cell():
    many = {f"010-2000-{n:04d}" for n in range(60)} | {"한가람"}
    assert _mentions("이름,전화번호\r\n한가람,010-9999-0000\r\n".encode("cp949"), many)
    assert _mentions(b'name,phone\n"x",010-2000-0042\n', many)
    assert not _mentions("이름,전화번호\n한가람님,010-3000-0001\n".encode(), many)
    assert _mentions(b"\x00\xff\xfe\x00garbage\x81", many)  # unreadable: deleted


def test_retention_has_a_one_year_minimum(two_shops):
    from dangol.privacy.services import RetentionError

    with shop_scope(two_shops.a.shop), pytest.raises(RetentionError):
        retention_policy_set(shop=two_shops.a.shop, inactive_years=0)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.integers(min_value=2, max_value=5),
    victims=st.sets(st.integers(min_value=0, max_value=4), min_size=1, max_size=3),
    repeats=st.integers(min_value=1, max_value=3),
)
def test_erasure_is_idempotent_and_touches_no_one_else(two_shops, people, victims, repeats):
    shop = two_shops.a.shop
    sid = transaction.savepoint()
    try:
        with shop_scope(shop):
            crowd = [
                make_customer(shop, name=f"손님{n}", email=f"p{n}@example.com")
                for n in range(people)
            ]
            for n, person in enumerate(crowd):
                message_enqueue(
                    shop=shop,
                    customer=person,
                    channel="sms",
                    kind="info",
                    body=f"{person.name}님",
                    source="prop",
                    occurrence=str(n),
                )
            chosen = [crowd[i] for i in victims if i < people]

            def snapshot():
                return {
                    c.pk: (
                        c.name,
                        c.phone,
                        c.email,
                        c.phone_bidx,
                        c.search_tokens,
                        CustomerIdentity.objects.filter(customer=c).count(),
                        [m.body for m in OutboxMessage.objects.filter(customer=c)],
                    )
                    for c in Customer.objects.filter(pk__in=[p.pk for p in crowd])
                }

            before = snapshot()
            for _ in range(repeats):
                for person in chosen:
                    customer_erase(shop=shop, customer=person)
            after = snapshot()
            for pk, row in after.items():
                if pk in {p.pk for p in chosen}:
                    assert row == ("", "", "", "", "", 0, [""])
                else:
                    assert row == before[pk]
            assert Erasure.objects.count() == len(chosen)
            deletes = AuditEvent.objects.filter(action="delete", object_type="customer").count()
            assert deletes == len(chosen)
    finally:
        transaction.savepoint_rollback(sid)
