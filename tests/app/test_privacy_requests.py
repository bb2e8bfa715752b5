"""Data-subject requests: access download, correction, stop processing, deadlines."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.utils import timezone

from dangol.audit.models import AuditEvent
from dangol.automations.services import campaign_send
from dangol.core.tenancy import shop_scope
from dangol.customers.models import CustomerIdentity
from dangol.customers.selectors import consent_current, customer_find_by_phone, customer_search
from dangol.customers.services import ConsentInput, CustomerError, consent_record
from dangol.messaging.dispatch import outbox_dispatch
from dangol.messaging.models import OutboxMessage, Status
from dangol.messaging.providers.console import ConsoleProvider
from dangol.messaging.services import template_create
from dangol.privacy.models import DataSubjectRequestEvent, RequestStatus
from dangol.privacy.selectors import dsr_list
from dangol.privacy.services import (
    Correction,
    RequestError,
    dsr_correct,
    dsr_create,
    dsr_fulfil_access,
    dsr_refuse,
    dsr_stop_processing,
)
from dangol.segments.services import segment_create
from dangol.shops.models import Shop

AFTERNOON = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)  # 14:00 in Seoul


@pytest.fixture
def a(two_shops):
    shop = two_shops.a.shop
    Shop.objects.filter(pk=shop.pk).update(sender_numbers=["02-555-0101"])
    shop.refresh_from_db()
    two_shops.a.shop = shop
    return two_shops.a


def _consent(customer, kind, granted=True):
    consent_record(
        customer=customer,
        data=ConsentInput(
            kind=kind, granted=granted, source="staff", occurred_at=AFTERNOON - dt.timedelta(days=9)
        ),
    )


def test_access_download_holds_the_customers_data_and_is_audited(a):
    with shop_scope(a.shop):
        _consent(a.customer, "ad_sms")
        request = dsr_create(shop=a.shop, customer=a.customer, kind="access", actor=a.owner)
        assert request.due_at - request.received_at == dt.timedelta(days=10)
        file = dsr_fulfil_access(request=request, actor=a.owner, ip_address="198.51.100.4")
        archive = zipfile.ZipFile(io.BytesIO(file.content))
        names = set(archive.namelist())
        assert {"data.json", "profile.csv", "consents.csv", "purchases.csv", "points.csv"} <= names
        assert {"coupons.csv", "stamps.csv", "messages.csv", "segments.csv"} <= names
        data = json.loads(archive.read("data.json"))
        assert data["profile"][0]["name"] == "김민지"
        assert data["profile"][0]["phone"] == "+821011112222"
        assert data["profile"][0]["email"] == "minji@example.com"
        assert len(data["purchases"]) == 3
        assert data["consents"][0]["kind"] == "ad_sms"
        assert "김민지" in archive.read("profile.csv").decode("utf-8-sig")
        audit = AuditEvent.objects.get(action="export", customer_id=a.customer.pk)
        assert audit.username == a.owner.username and audit.ip_address == "198.51.100.4"
        assert audit.rows == sum(len(v) for v in data.values()) and audit.reason
        request.refresh_from_db()
        assert request.status == RequestStatus.DONE and request.completed_at
        with pytest.raises(RequestError):
            dsr_fulfil_access(request=request, actor=a.owner)  # answered once
        actions = list(
            DataSubjectRequestEvent.objects.filter(request=request).values_list("action", flat=True)
        )
        assert actions == ["received", "access_download"]


def test_stop_processing_keeps_every_campaign_and_automation_away(a):
    shop, customer = a.shop, a.customer
    with shop_scope(shop):
        _consent(customer, "ad_sms")
        _consent(customer, "ad_email")
        segment = segment_create(
            shop=shop, name="방문 고객", rule={"condition": "visits", "op": "gte", "value": 1}
        )
        template = template_create(
            shop=shop, name="돌아와요", channel="sms", kind="ad", body="{name}님, 보고 싶어요"
        )
        request = dsr_create(shop=shop, customer=customer, kind="stop", actor=a.owner)
        assert dsr_stop_processing(request=request, actor=a.owner) == 5  # every channel
        states = {s.kind: s.granted for s in consent_current(customer=customer)}
        assert not any(states[k] for k in ("pipa_marketing", "ad_sms", "ad_email", "ad_night"))
        # A campaign queued after the stop reaches the gate, which refuses it with a reason.
        campaign_send(
            shop=shop, segment=segment, template=template, occurrence="w1", scheduled_for=AFTERNOON
        )
        outbox_dispatch(providers={"sms": ConsoleProvider()}, now=AFTERNOON, shop=shop)
        messages = list(OutboxMessage.objects.filter(customer=customer))
        assert messages and all(m.status == Status.BLOCKED for m in messages)
        assert all("opted_out" in m.reasons for m in messages)
        # An automation's e-mail too.
        email = template_create(
            shop=shop, name="생일", channel="email", kind="ad", body="생일 축하"
        )
        campaign_send(
            shop=shop, segment=segment, template=email, occurrence="b1", scheduled_for=AFTERNOON
        )
        outbox_dispatch(providers={"email": ConsoleProvider()}, now=AFTERNOON, shop=shop)
        sent = OutboxMessage.objects.filter(customer=customer, channel="email").get()
        assert sent.status == Status.BLOCKED and "opted_out" in sent.reasons
        assert AuditEvent.objects.filter(object_type="privacy_request", reason="stop").exists()


def test_correction_updates_the_data_and_its_indexes(a, two_shops):
    with shop_scope(a.shop):
        request = dsr_create(shop=a.shop, customer=a.customer, kind="correction", actor=a.owner)
        changed = dsr_correct(
            request=request,
            correction=Correction(
                name="김민주", phone="010-7777-8888", birthday=dt.date(1990, 5, 1)
            ),
            actor=a.owner,
        )
        assert changed == ["name", "phone", "birthday"]
        assert customer_find_by_phone(shop=a.shop, phone="010-1111-2222") is None
        assert customer_find_by_phone(shop=a.shop, phone="010-7777-8888").pk == a.customer.pk
        assert [c.pk for c in customer_search(shop=a.shop, query="민주")] == [a.customer.pk]
        assert CustomerIdentity.objects.filter(customer=a.customer).count() == 2
        request.refresh_from_db()
        assert "010" not in request.resolution_notes and "김민주" not in request.resolution_notes
        other = dsr_create(shop=a.shop, customer=a.customer, kind="correction")
        with pytest.raises(CustomerError):
            dsr_correct(request=other, correction=Correction(phone="not a phone"))


def test_deadline_tracker_flags_overdue_requests(a):
    now = timezone.now()
    with shop_scope(a.shop):
        late = dsr_create(
            shop=a.shop, customer=a.customer, kind="access", received_at=now - dt.timedelta(days=12)
        )
        fresh = dsr_create(shop=a.shop, customer=a.customer, kind="deletion")
        refused = dsr_create(
            shop=a.shop, customer=a.customer, kind="stop", received_at=now - dt.timedelta(days=30)
        )
        dsr_refuse(request=refused, reason="본인 확인이 되지 않았어요")
        rows = {r.request.pk: r for r in dsr_list(shop=a.shop)}
        assert rows[late.pk].overdue and rows[late.pk].days_overdue == 2
        assert not rows[fresh.pk].overdue and rows[fresh.pk].days_left == 10
        assert not rows[refused.pk].overdue  # answered, even if late
        assert next(iter(rows)) == late.pk  # the most urgent first


def test_requests_refuse_another_shops_customer(two_shops):
    with shop_scope(two_shops.a.shop), pytest.raises(RequestError):
        dsr_create(shop=two_shops.a.shop, customer=two_shops.b.customer, kind="access")


def test_the_customers_own_page_can_file_a_request(a):
    with shop_scope(a.shop):
        request = dsr_create(shop=a.shop, customer=a.customer, kind="deletion", channel="self")
        assert request.entered_by is None and request.get_channel_display()
