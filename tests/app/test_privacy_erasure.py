"""Erasure: a deleted customer's personal data is unreadable everywhere, their statistics stay,
and their opt-outs outlive them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from dangol.audit.models import AuditEvent
from dangol.core.tenancy import shop_scope
from dangol.customers.models import ConsentEvent, Customer, CustomerIdentity
from dangol.customers.selectors import customer_find_by_phone
from dangol.customers.services import ConsentInput, consent_record
from dangol.imports.models import ImportRun
from dangol.imports.services import import_run, import_upload
from dangol.loyalty.models import ReferralCode
from dangol.loyalty.referrals import referral_code_issue
from dangol.messaging.dispatch import outbox_dispatch
from dangol.messaging.models import OutboxMessage, Status, Suppression
from dangol.messaging.providers.console import ConsoleProvider
from dangol.messaging.services import message_enqueue
from dangol.privacy.erasure import customer_erase, customer_links
from dangol.privacy.models import Erasure
from dangol.sales.models import Purchase
from dangol.segments.models import Segment
from dangol.segments.selectors import segment_members
from dangol.segments.services import segment_create, shop_segments_refresh
from dangol.shops.models import Shop
from tests.app.factories import make_customer, make_purchases, make_shop
from tests.app.test_security_keys import assert_no_plaintext

pytestmark = pytest.mark.django_db(transaction=True)

NAME, PHONE, EMAIL, BIRTHDAY = "한가람", "010-4321-8765", "garam.han@example.com", "1991-03-07"
AFTERNOON = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)  # 14:00 in Seoul


def _consent(customer, kind, granted, *, days_ago=30):
    consent_record(
        customer=customer,
        data=ConsentInput(
            kind=kind,
            granted=granted,
            source="tablet",
            ip_address="203.0.113.7",
            device="tablet-1",
            occurred_at=AFTERNOON - dt.timedelta(days=days_ago),
        ),
    )


def _queue(shop, customer, *, occurrence, channel="sms", kind="ad", when=AFTERNOON):
    message, _ = message_enqueue(
        shop=shop,
        customer=customer,
        channel=channel,
        kind=kind,
        body=f"{customer.name}님, 신메뉴가 나왔어요",
        source="test",
        occurrence=occurrence,
        sender="02-555-0101",
        scheduled_for=when,
    )
    return message


@pytest.fixture
def world():
    shop, store, owner, product = make_shop("alpha")
    Shop.objects.filter(pk=shop.pk).update(sender_numbers=["02-555-0101"])
    shop.refresh_from_db()
    other_shop, other_store, _, other_product = make_shop("beta")
    with shop_scope(shop):
        person = make_customer(
            shop, name=NAME, phone=PHONE, email=EMAIL, birthday=dt.date.fromisoformat(BIRTHDAY)
        )
        neighbour = make_customer(
            shop, name="오세훈", phone="010-2468-1357", email="se@example.com"
        )
        make_purchases(shop, store, product, person, days_ago=[3, 20, 60], amount_qty=2)
        make_purchases(shop, store, product, neighbour, days_ago=[5])
        _consent(person, "ad_sms", True, days_ago=60)
        _consent(person, "ad_sms", False, days_ago=10)  # opted out of SMS ads
        _consent(person, "ad_email", True)  # e-mail ads still welcome
        _consent(neighbour, "ad_sms", True)
        sent = _queue(shop, person, occurrence="1", kind="info")
        outbox_dispatch(providers={"sms": ConsoleProvider()}, now=AFTERNOON, shop=shop)
        queued = _queue(shop, person, occurrence="2", when=AFTERNOON + dt.timedelta(days=3))
        theirs = _queue(shop, neighbour, occurrence="3", when=AFTERNOON + dt.timedelta(days=3))
        referral_code_issue(shop=shop, customer=person)
        upload = import_upload(
            shop=shop,
            kind="customers",
            data=f"이름,전화번호\n{NAME},{PHONE}\n".encode(),
            file_name="단골명단.csv",
        )
        ImportRun.objects.for_shop(shop).filter(pk=upload.pk).update(
            report={"problems": [{"row": 2, "column": "전화번호", "value": PHONE}]}
        )
        other_upload = import_upload(
            shop=shop,
            kind="customers",
            data="이름,전화번호\n오세훈,010-2468-1357\n".encode(),
            file_name="other.csv",
        )
        segment_create(
            shop=shop, name="방문 고객", rule={"condition": "visits", "op": "gte", "value": 1}
        )
        shop_segments_refresh(shop=shop)
    with shop_scope(other_shop):
        # Same phone in another shop: a different customer who must be left alone.
        stranger = make_customer(other_shop, name=NAME, phone=PHONE)
        make_purchases(other_shop, other_store, other_product, stranger, days_ago=[4])
    return locals()


def _segment_counts(shop):
    with shop_scope(shop):
        return {
            s.name: segment_members(shop=shop, segment=s).count()
            for s in Segment.objects.for_shop(shop).order_by("pk")
        }


def _raw_ciphertexts(customer_id):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, phone, email, birthday FROM customers_customer WHERE id = %s",
            [customer_id],
        )
        return [v for v in cursor.fetchone() if v]


def _checkpoint():
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_erased_customer_is_unreadable_everywhere_and_statistics_stay(world):
    shop, person = world["shop"], world["person"]
    needles = {NAME, PHONE, PHONE.replace("-", ""), "+82" + PHONE[1:].replace("-", ""), EMAIL}
    needles.add(BIRTHDAY)
    ciphertexts = _raw_ciphertexts(person.pk)
    assert len(ciphertexts) == 4
    with shop_scope(shop):
        paid = Purchase.objects.for_shop(shop).aggregate(n=Sum("total"))["n"]
        segments_before = _segment_counts(shop)
        assert segments_before["방문 고객"] == 2
        stored = Path(settings.DATA_DIR) / "imports" / str(shop.pk) / world["upload"].stored_as
        assert stored.is_file()
        erasure = customer_erase(shop=shop, customer=person)

    # 1. No plaintext in any text column, nor in the database file after a checkpoint.
    _checkpoint()
    assert_no_plaintext(needles)

    # 2. Every encrypted column (found as key rotation finds them) holds nothing of theirs:
    # their rows are empty and no row of the shop decrypts to their data. (The other shop's
    # customer with the same name and phone is someone else, and is left alone.)
    for model, fields, link in customer_links():
        for row in model._base_manager.filter(**{link: person.pk}).values(*fields):
            assert all(v in ("", None) for v in row.values()), (model, row)
        for row in model._base_manager.filter(shop=shop).values(*fields):
            text = " ".join(str(v) for v in row.values() if v)
            assert not any(n in text for n in (NAME, "+821043218765", EMAIL)), (model, row)
    # 3. Not re-encrypted: the old ciphertexts are gone from the file too.
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert not [c for c in ciphertexts if c.encode() in raw]

    with shop_scope(shop):
        row = Customer.objects.for_shop(shop).get(pk=person.pk)
        assert (row.name, row.phone, row.email, row.birthday) == ("", "", "", None)
        assert (row.phone_bidx, row.email_bidx, row.search_tokens, row.birthday_md) == (
            "",
            "",
            "",
            None,
        )
        assert not CustomerIdentity.objects.filter(customer=person).exists()
        assert not ReferralCode.objects.filter(customer=person).exists()
        assert set(
            ConsentEvent.objects.filter(customer=person).values_list("ip_address", "device")
        ) == {(None, "")}
        # The outbox keeps what happened, not to whom or what it said.
        messages = {m.pk: m for m in OutboxMessage.objects.filter(customer=person)}
        assert messages[world["sent"].pk].status == Status.DELIVERED
        assert messages[world["queued"].pk].status == Status.BLOCKED
        assert all(
            m.to_address == "" and m.body == "" and m.final_body == "" for m in messages.values()
        )
        theirs = OutboxMessage.objects.get(pk=world["theirs"].pk)
        assert theirs.status == Status.QUEUED and theirs.body.startswith("오세훈")
        # The upload that named them is deleted; the run keeps its counts; the other stays.
        assert not stored.exists()
        run = ImportRun.objects.get(pk=world["upload"].pk)
        assert run.stored_as == "" and run.report["problems"][0]["value"] == "[삭제됨]"
        assert ImportRun.objects.get(pk=world["other_upload"].pk).stored_as
        # Statistics: the same money, the same segment sizes.
        assert Purchase.objects.for_shop(shop).aggregate(n=Sum("total"))["n"] == paid
        assert Purchase.objects.filter(customer=person).count() == 3
        assert _segment_counts(shop) == segments_before
        shop_segments_refresh(shop=shop)
        assert _segment_counts(shop) == segments_before
        # Audited as a deletion; a second call changes nothing.
        assert AuditEvent.objects.filter(action="delete", customer_id=person.pk).count() == 1
        assert customer_erase(shop=shop, customer=person).pk == erasure.pk
        assert AuditEvent.objects.filter(action="delete", customer_id=person.pk).count() == 1
        assert erasure.counts["identities"] == 2
    with shop_scope(world["other_shop"]):
        stranger = Customer.objects.get(pk=world["stranger"].pk)
        assert (stranger.name, stranger.phone) == (NAME, "+821043218765")


def test_reimported_phone_is_a_new_customer_still_suppressed(world):
    shop, person = world["shop"], world["person"]
    with shop_scope(shop):
        customer_erase(shop=shop, customer=person)
        assert customer_find_by_phone(shop=shop, phone=PHONE) is None
        channels = set(Suppression.objects.values_list("channel", flat=True))
        assert channels == {"sms"}  # opted out of SMS; e-mail ads were still welcome
        run = import_run(
            shop=shop,
            kind="customers",
            data=f"이름,전화번호,이메일\n{NAME},{PHONE},{EMAIL}\n".encode(),
            file_name="again.csv",
        )
        assert run.status == "imported", run.report
        again = customer_find_by_phone(shop=shop, phone=PHONE)
        assert again is not None and again.pk != person.pk
        _consent(again, "ad_sms", True, days_ago=1)  # even a fresh "yes" does not undo an 080
        _consent(again, "ad_email", True, days_ago=1)
        sms = _queue(shop, again, occurrence="r1")
        email = _queue(shop, again, occurrence="r2", channel="email")
        outbox_dispatch(
            providers={"sms": ConsoleProvider(), "email": ConsoleProvider()},
            now=AFTERNOON,
            shop=shop,
        )
        sms.refresh_from_db()
        email.refresh_from_db()
        assert sms.status == Status.BLOCKED and "opted_out" in sms.reasons
        assert "opted_out" not in email.reasons


def test_every_encrypted_table_is_reachable_from_a_customer():
    tables = {model._meta.label_lower for model, _, _ in customer_links()}
    assert {"customers.customer", "messaging.outboxmessage"} <= tables


def test_erasure_never_touches_another_customer(world):
    shop = world["shop"]
    neighbour = world["neighbour"]
    with shop_scope(shop):
        before = Customer.objects.get(pk=neighbour.pk)
        customer_erase(shop=shop, customer=world["person"])
        after = Customer.objects.get(pk=neighbour.pk)
        assert (after.name, after.phone, after.email, after.phone_bidx) == (
            before.name,
            before.phone,
            before.email,
            before.phone_bidx,
        )
        assert CustomerIdentity.objects.filter(customer=neighbour).count() == 2
        assert not Erasure.objects.filter(customer=neighbour).exists()
