"""The dispatcher: the gate decides at the moment of sending, every decision is recorded, and
each message reaches the provider exactly once — even when the dispatcher is killed mid-batch."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from dangol.core.tenancy import shop_scope
from dangol.customers.services import ConsentInput, consent_record
from dangol.messaging.dispatch import outbox_dispatch
from dangol.messaging.models import OutboxEvent, Status
from dangol.messaging.providers.base import Outcome, OutgoingMessage, SendResult
from dangol.messaging.providers.console import ConsoleProvider
from dangol.messaging.services import message_enqueue, suppression_add
from dangol.shops.models import Shop
from tests.app.factories import make_customer
from tests.app.gateway import SECRET, Gateway
from tests.app.test_cli import run_dangol

# 14:00 and 22:30 in Seoul.
AFTERNOON = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)
NIGHT = dt.datetime(2026, 11, 20, 13, 30, tzinfo=dt.UTC)


@pytest.fixture
def shop(two_shops):
    shop = two_shops.a.shop
    Shop.objects.filter(pk=shop.pk).update(sender_numbers=["02-555-0101"])
    shop.refresh_from_db()
    return shop


def _queue(
    shop, customer, *, kind="ad", body="이번 주 신메뉴가 나왔어요", occurrence="1", when=AFTERNOON
):
    message, _ = message_enqueue(
        shop=shop,
        customer=customer,
        channel="sms",
        kind=kind,
        body=body,
        source="test",
        occurrence=occurrence,
        sender="02-555-0101",
        scheduled_for=when,
    )
    return message


def _consent(customer, kind, granted=True):
    consent_record(
        customer=customer,
        data=ConsentInput(
            kind=kind,
            granted=granted,
            source="staff",
            occurred_at=AFTERNOON - dt.timedelta(days=30),
        ),
    )


@pytest.mark.django_db
def test_the_gate_decides_at_dispatch_and_every_decision_is_recorded(shop):
    console = ConsoleProvider()
    yes, no, night, gone = (make_customer(shop, name=n) for n in ("가", "나", "다", "라"))
    for c in (yes, night, gone):
        _consent(c, "ad_sms")
    with shop_scope(shop):
        sent = _queue(shop, yes)
        refused = _queue(shop, no)
        info = _queue(shop, no, kind="info", body="주문하신 케이크가 준비됐어요", occurrence="2")
        late = _queue(shop, night, when=NIGHT)
        opted = _queue(shop, gone)
        suppression_add(shop=shop, address=gone.phone, channel="sms", source="080")
        report = outbox_dispatch(providers={"sms": console}, now=AFTERNOON)
        assert report.claimed == 4  # the night one is not due yet
        for m in (sent, refused, info, opted):
            m.refresh_from_db()
        assert sent.status == Status.DELIVERED
        assert sent.final_body.startswith("(광고)") and "무료수신거부" in sent.final_body
        assert refused.status == Status.BLOCKED and refused.reasons
        assert info.status == Status.DELIVERED and not info.final_body.startswith("(광고)")
        assert opted.status == Status.BLOCKED
        # A second ad the same day is over the frequency cap.
        second = _queue(shop, yes, occurrence="3")
        outbox_dispatch(providers={"sms": console}, now=AFTERNOON + dt.timedelta(minutes=5))
        second.refresh_from_db()
        assert second.status == Status.BLOCKED
        # 22:30 in Seoul: held until 08:00, then sent.
        outbox_dispatch(providers={"sms": console}, now=NIGHT)
        late.refresh_from_db()
        assert late.status == Status.HELD
        assert late.scheduled_for == dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC)
        outbox_dispatch(providers={"sms": console}, now=late.scheduled_for)
        late.refresh_from_db()
        assert late.status == Status.DELIVERED
        history = list(
            OutboxEvent.objects.for_shop(shop).filter(message=late).values_list("status", flat=True)
        )
        assert history == [Status.HELD, Status.DELIVERED]
    assert len(console.sent) == 3


class Flaky:
    """A provider that times out once (the message did go), then refuses, then works."""

    name = "flaky"

    def __init__(self):
        self.calls: list[str] = []
        self.delivered: set[str] = set()

    def send(self, message: OutgoingMessage) -> SendResult:
        self.calls.append(message.idempotency_key)
        if len(self.calls) == 1:
            self.delivered.add(message.idempotency_key)
            return SendResult(Outcome.UNKNOWN, detail="timeout")
        if len(self.calls) == 2:
            return SendResult(Outcome.FAILED, code="429", retryable=True)
        self.delivered.add(message.idempotency_key)
        return SendResult(Outcome.ACCEPTED, provider_message_id="p-1")

    def status(self, message: OutgoingMessage, provider_message_id: str = "") -> SendResult:
        if message.idempotency_key in self.delivered:
            return SendResult(Outcome.DELIVERED, provider_message_id="p-0")
        return SendResult(Outcome.FAILED, code="not_found", retryable=True)


@pytest.mark.django_db
def test_unknown_outcomes_are_reconciled_never_resent_blindly(shop):
    provider = Flaky()
    a, b = make_customer(shop, name="가"), make_customer(shop, name="나")
    with shop_scope(shop):
        first = _queue(shop, a, kind="info")
        second = _queue(shop, b, kind="info")
        outbox_dispatch(providers={"sms": provider}, now=AFTERNOON)
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.status == Status.UNKNOWN  # timed out, but it did go
        assert second.status == Status.QUEUED  # 429: try later
        later = AFTERNOON + dt.timedelta(hours=1)
        outbox_dispatch(providers={"sms": provider}, now=later)
        first.refresh_from_db()
        second.refresh_from_db()
    assert first.status == Status.DELIVERED  # learnt from the provider, not sent again
    assert second.status == Status.SENT
    assert provider.calls.count(first.idempotency_key) == 1


@pytest.mark.django_db
def test_a_provider_that_raises_loses_nothing(shop):
    class Broken:
        name = "broken"

        def send(self, message):
            raise RuntimeError("bug in the adapter")

        def status(self, message, provider_message_id=""):
            return SendResult(Outcome.UNKNOWN)

    customer = make_customer(shop, name="가")
    with shop_scope(shop):
        message = _queue(shop, customer, kind="info")
        outbox_dispatch(providers={"sms": Broken()}, now=AFTERNOON)
        message.refresh_from_db()
    assert message.status == Status.UNKNOWN and message.attempts == 1


SEED = """
import datetime as dt, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangol.settings")
django.setup()
from django.utils import timezone
from dangol.core.tenancy import shop_scope
from dangol.customers.models import CreatedVia
from dangol.customers.services import CustomerInput, customer_bulk_create
from dangol.messaging.models import MessageTemplate
from dangol.messaging.services import Outgoing, message_bulk_enqueue, template_create
from dangol.shops.services import shop_create
shop = shop_create(name="발송 카페", slug="send", category="cafe", phone="02-555-0101",
                   optout_080="080-123-4567", sender_numbers=["02-555-0101"])
with shop_scope(shop):
    people = customer_bulk_create(shop=shop, created_via=CreatedVia.IMPORT, rows=[
        CustomerInput(name=f"손님{i}", phone=f"010-{1000 + i // 10000:04d}-{i % 10000:04d}")
        for i in range(int(os.environ["N"]))])
    template = template_create(shop=shop, name="안내", channel="sms", kind="info",
                               body="{name}님, 주문하신 메뉴가 준비됐어요")
    print(message_bulk_enqueue(shop=shop, template=template, sender="02-555-0101",
        recipients=[Outgoing(c, {"name": c.name}, "1") for c in people], source="test",
        scheduled_for=timezone.now() - dt.timedelta(minutes=1)))
"""

COUNT = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangol.settings")
django.setup()
from collections import Counter
from dangol.messaging.models import OutboxMessage
print(dict(Counter(OutboxMessage.unscoped.values_list("status", flat=True))))
"""


def _fresh_postgres_database(url: str) -> str:
    import uuid

    import psycopg

    server, _, _ = url.rpartition("/")
    name = f"dispatch_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


@pytest.mark.slow
def test_killed_mid_batch_every_message_goes_exactly_once(tmp_path):
    n = 10_000
    env = {
        "DANGOL_DATA_DIR": str(tmp_path),
        "DANGOL_SMS_PROVIDER": "webhook",
        "DANGOL_WEBHOOK_SECRET": SECRET,
        "N": str(n),
    }
    # On the PostgreSQL run the workers use PostgreSQL too, in a database of their own.
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = _fresh_postgres_database(os.environ["DATABASE_URL"])
    assert run_dangol("migrate", env=env).returncode == 0
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DANGOL_REDIS_URL"}}
    seeded = subprocess.run(
        [sys.executable, "-c", SEED],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.strip().endswith(str(n))
    with Gateway() as gateway:
        env["DANGOL_WEBHOOK_URL"] = gateway.url
        command = [
            sys.executable,
            "-m",
            "dangol.cli.main",
            "dispatch",
            "--until-empty",
            "--batch",
            "200",
        ]
        worker = subprocess.Popen(
            command, env={**base, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 300
        while sum(gateway.posts.values()) < n // 3 and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read().decode()
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        killed_at = sum(gateway.posts.values())
        assert n // 3 <= killed_at < n
        # The worker died holding claimed rows; the next one finds them past their lease.
        again = run_dangol(
            "dispatch", "--until-empty", "--lease-seconds", "0", env=env, timeout=600
        )
        assert again.returncode == 0, again.stderr
        counts = subprocess.run(
            [sys.executable, "-c", COUNT],
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert len(gateway.posts) == n
    assert max(gateway.posts.values()) == 1, "a message was sent twice"
    statuses = eval(counts.stdout)  # noqa: S307 — our own script's dict output
    assert set(statuses) <= {"sent", "delivered"} and sum(statuses.values()) == n


@pytest.mark.django_db
def test_campaign_to_a_segment_and_the_outbox_page(client, shop, two_shops):
    from dangol.automations.services import campaign_send
    from dangol.messaging.services import template_create
    from dangol.segments.services import segment_create

    with shop_scope(shop):
        _consent(two_shops.a.customer, "ad_sms")
        segment = segment_create(
            shop=shop, name="방문 고객", rule={"condition": "visits", "op": "gte", "value": 1}
        )
        template = template_create(
            shop=shop, name="돌아와요", channel="sms", kind="ad", body="{name}님, 보고 싶어요"
        )
        send = {"shop": shop, "segment": segment, "template": template, "occurrence": "w47"}
        assert campaign_send(**send, scheduled_for=AFTERNOON) == 1
        assert campaign_send(**send, scheduled_for=AFTERNOON) == 0
        outbox_dispatch(providers={"sms": ConsoleProvider()}, now=AFTERNOON)
    client.force_login(two_shops.a.owner)
    body = client.get("/messages/").content.decode()
    assert "김민지님, 보고 싶어요" in body and "(광고)" in body
    assert "(광고) 표시를 붙였어요" in body  # the gate's change, in words
    blocked = client.get("/messages/", {"status": "blocked"}).content.decode()
    assert "김민지님, 보고 싶어요" not in blocked
    # The other shop sees none of it.
    client.force_login(two_shops.b.owner)
    assert "김민지" not in client.get("/messages/").content.decode()


def test_providers_come_from_the_environment(monkeypatch):
    from dangol.core.config import ConfigError
    from dangol.messaging.config import providers_from_environment
    from dangol.messaging.providers import NhnSmsProvider, SolapiProvider

    assert isinstance(providers_from_environment()["sms"], ConsoleProvider)
    monkeypatch.setenv("DANGOL_SMS_PROVIDER", "solapi")
    with pytest.raises(ConfigError) as missing:
        providers_from_environment()
    assert "DANGOL_SOLAPI_API_KEY" in missing.value.en
    monkeypatch.setenv("DANGOL_SOLAPI_API_KEY", "key")
    monkeypatch.setenv("DANGOL_SOLAPI_API_SECRET", "secret")
    assert isinstance(providers_from_environment()["sms"], SolapiProvider)
    monkeypatch.setenv("DANGOL_SMS_PROVIDER", "nhn_sms")
    monkeypatch.setenv("DANGOL_NHN_SMS_APP_KEY", "app")
    monkeypatch.setenv("DANGOL_NHN_SMS_SECRET_KEY", "secret")
    assert isinstance(providers_from_environment()["sms"], NhnSmsProvider)
    monkeypatch.setenv("DANGOL_SMS_PROVIDER", "pigeon")
    with pytest.raises(ConfigError):
        providers_from_environment()


@pytest.mark.django_db
def test_an_email_ad_carries_the_sender_identity_and_an_unsubscribe_link(shop):
    Shop.objects.filter(pk=shop.pk).update(
        address="서울 성동구 성수이로 1", email="hi@cafe.example"
    )
    shop.refresh_from_db()
    customer = make_customer(shop, name="가", email="ga@example.com")
    _consent(customer, "ad_email")
    console = ConsoleProvider()
    with shop_scope(shop):
        message, _ = message_enqueue(
            shop=shop,
            customer=customer,
            channel="email",
            kind="ad",
            subject="신메뉴 소식",
            body="이번 주 신메뉴가 나왔어요",
            source="test",
            occurrence="e1",
            scheduled_for=AFTERNOON,
        )
        outbox_dispatch(providers={"email": console}, now=AFTERNOON)
        message.refresh_from_db()
    assert message.status == Status.DELIVERED, message.reasons
    assert message.final_subject.startswith("(광고)")
    (sent,) = console.sent
    assert sent.unsubscribe_url.startswith("http") and "/u/" in sent.unsubscribe_url
    assert "02-555-0101" in message.final_body or "서울 성동구" in message.final_body


@pytest.mark.django_db
def test_emails_go_on_several_smtp_connections_each_exactly_once(shop):
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    from dangol.messaging.providers.smtp import SmtpProvider

    class Server:
        def __init__(self):
            self.keys: list[str] = []
            self.sessions = 0

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            session.host_name = hostname
            self.sessions += 1
            responses.insert(-1, "250-PIPELINING")
            return responses

        async def handle_DATA(self, server, session, envelope):
            received = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.keys.append(received["X-Dangol-Idempotency-Key"])
            return "250 2.0.0 Ok"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Server()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    smtp = SmtpProvider("127.0.0.1", port, from_address="카페 <hi@cafe.example>", connections=4)
    people = [make_customer(shop, name=f"손님{i}", email=f"g{i}@example.com") for i in range(40)]
    try:
        with shop_scope(shop):
            messages = [
                message_enqueue(
                    shop=shop,
                    customer=c,
                    channel="email",
                    kind="info",
                    subject="주문하신 케이크가 준비됐어요",
                    body="오늘 20시까지 찾아가세요",
                    source="test",
                    occurrence="cake",
                    scheduled_for=AFTERNOON,
                )[0]
                for c in people
            ]
            report = outbox_dispatch(providers={"email": smtp}, now=AFTERNOON, limit=100)
            again = outbox_dispatch(providers={"email": smtp}, now=AFTERNOON, limit=100)
    finally:
        smtp.close()
        controller.stop()
    assert (report.claimed, report.delivered, again.claimed) == (40, 40, 0)
    assert sorted(handler.keys) == sorted(m.idempotency_key for m in messages)
    assert 1 <= handler.sessions <= 4
    for message in messages:
        message.refresh_from_db()
        assert message.status == Status.DELIVERED and message.attempts == 1
        history = list(
            OutboxEvent.objects.for_shop(shop)
            .filter(message=message)
            .order_by("pk")
            .values_list("status", flat=True)
        )
        assert history == [Status.DELIVERED]
