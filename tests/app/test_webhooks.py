"""Outgoing webhooks against a local receiver that verifies signatures and counts deliveries:
each event captured once, replays harmless, retries only when they can help, tenants apart."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db.models import F
from django.utils import timezone

from dangol.core.tenancy import shop_scope
from dangol.integrations.capture import webhook_events_capture
from dangol.integrations.client import WebhookClient
from dangol.integrations.delivery import RETRY_DELAYS, webhook_deliveries_send
from dangol.integrations.models import (
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
)
from dangol.integrations.services import (
    WebhookError,
    webhook_subscription_create,
    webhook_subscription_deactivate,
    webhook_test_queue,
    webhook_url_check,
)
from dangol.integrations.signing import signature_header, signature_verify
from dangol.loyalty.services import (
    CouponTemplateInput,
    coupon_issue,
    coupon_redeem,
    coupon_template_create,
)
from dangol.messaging.dispatch import outbox_dispatch
from dangol.messaging.providers.console import ConsoleProvider
from dangol.messaging.services import message_enqueue
from dangol.segments.services import segment_create, segment_refresh
from dangol.shops.models import Shop
from tests.app.factories import make_customer, make_purchases


class Receiver:
    """Verifies each request's signature the way the README tells receivers to, counts
    deliveries per ``Dangol-Delivery`` id, and answers from a script: status codes, a
    Retry-After, or a pause (float seconds) longer than the client waits."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.posts: Counter[str] = Counter()  # per Dangol-Delivery id
        self.verified = 0
        self.refused = 0
        self.bodies: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.script: list[int | tuple[int, dict[str, str]] | float] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = signature_verify(
                    secret=receiver.secret,
                    header=self.headers.get("Dangol-Signature", ""),
                    body=body,
                )
                with receiver.lock:
                    step = receiver.script.pop(0) if receiver.script else 200
                    if not ok:
                        receiver.refused += 1
                    else:
                        receiver.verified += 1
                        receiver.posts[self.headers.get("Dangol-Delivery", "")] += 1
                        receiver.bodies.append(json.loads(body))
                        receiver.headers.append(dict(self.headers))
                if not ok:
                    return self._answer(400)
                if isinstance(step, float):
                    time.sleep(step)
                    return self._answer(200)
                if isinstance(step, tuple):
                    return self._answer(step[0], step[1])
                return self._answer(step)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/dangol"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


ALL = ["customer.created", "purchase.created", "segment.entered", "coupon.redeemed", "message.sent"]


@pytest.fixture(autouse=True)
def local_http(settings):
    settings.DANGOL_WEBHOOKS_ALLOW_LOCAL_HTTP = True


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def _subscribe(shop, receiver, events=ALL):
    made = webhook_subscription_create(shop=shop, url=receiver.url, event_types=events)
    receiver.secret = made.secret
    return made.subscription


def _send(**kw):
    return webhook_deliveries_send(client=WebhookClient(timeout=kw.pop("timeout", 5.0)), **kw)


def _every_event(w):
    """One of each event in shop ``w``, each through the service the product uses."""
    shop = w.shop
    Shop.objects.filter(pk=shop.pk).update(sender_numbers=["02-555-0101"])
    shop.refresh_from_db()
    with shop_scope(shop):
        customer = make_customer(shop, name="이서연", phone="010-2345-6789")
        (purchase,) = make_purchases(shop, w.store, w.product, customer, days_ago=[0])
        segment = segment_create(
            shop=shop, name="한 번 이상", rule={"condition": "visits", "op": "gte", "value": 1}
        )
        segment_refresh(segment=segment)
        template = coupon_template_create(
            shop=shop,
            data=CouponTemplateInput(name="3천원", kind="amount", value=3000, valid_days=30),
        )
        coupon = coupon_issue(shop=shop, template=template, customer=customer)
        coupon_redeem(shop=shop, code=coupon.code, amount=10000)
        message, _ = message_enqueue(
            shop=shop,
            customer=customer,
            channel="sms",
            kind="info",
            body="주문하신 케이크가 준비됐어요",
            source="test",
            occurrence="1",
            sender="02-555-0101",
            scheduled_for=timezone.now(),
        )
        noon = timezone.now().replace(hour=3, minute=0)  # 12:00 in Seoul
        outbox_dispatch(providers={"sms": ConsoleProvider()}, now=max(noon, timezone.now()))
    return customer, purchase, segment, coupon, message


@pytest.mark.django_db
def test_each_event_type_is_captured_once_and_delivered_signed(two_shops, receiver):
    a = two_shops.a
    with shop_scope(a.shop):
        sub = _subscribe(a.shop, receiver)
    customer, purchase, segment, coupon, message = _every_event(a)
    with shop_scope(a.shop):
        webhook_events_capture(shop=a.shop)
        rows = WebhookDelivery.objects.for_shop(a.shop).filter(subscription=sub)
        by_type: dict[str, list] = {}
        for d in rows.order_by("pk"):
            by_type.setdefault(d.event_type, []).append(d)
        assert sorted(by_type) == sorted(ALL)
        # Only events after the subscription: the fixture's older purchases are history.
        assert [d.event_id for d in by_type["purchase.created"]] == [purchase.pk]
        assert [d.event_id for d in by_type["customer.created"]] == [customer.pk]
        assert [d.event_id for d in by_type["coupon.redeemed"]] == [coupon.pk]
        assert [d.event_id for d in by_type["message.sent"]] == [message.pk]
        # Both customers with a visit entered the new segment.
        stays = {
            (d.payload["segment_id"], d.payload["customer_id"]) for d in by_type["segment.entered"]
        }
        assert stays == {(segment.pk, customer.pk), (segment.pk, a.customer.pk)}
        assert rows.count() == 6
        # A replay reads nothing new; with the cursors wound back to where the subscription
        # started, the unique key still makes every event one delivery.
        assert webhook_events_capture(shop=a.shop) == 0
        WebhookCursor.objects.for_shop(a.shop).update(last_id=F("floor_id"), last_at=F("floor_at"))
        assert webhook_events_capture(shop=a.shop) == 6
        assert rows.count() == 6
    report = _send()
    assert report.delivered == 6 and receiver.refused == 0
    assert sorted(receiver.posts.values()) == [1] * 6
    assert _send().claimed == 0  # delivered means never again
    bodies = {b["type"]: b for b in receiver.bodies}
    new_customer = bodies["customer.created"]["data"]
    assert new_customer["phone_masked"] == "010-****-6789"
    sent_text = json.dumps(receiver.bodies, ensure_ascii=False)
    assert "이서연" not in sent_text and "2345" not in sent_text
    assert bodies["purchase.created"]["data"]["total"] == purchase.total
    head = receiver.headers[0]
    assert head["Dangol-Event"] == receiver.bodies[0]["type"]
    assert head["Dangol-Delivery"] == str(receiver.bodies[0]["id"])
    with shop_scope(a.shop):
        delivered = WebhookDelivery.objects.for_shop(a.shop).filter(status="delivered")
        assert delivered.count() == 6
        assert all(d.delivered_at and d.last_status == 200 for d in delivered)
        assert WebhookAttempt.objects.for_shop(a.shop).count() == 6


@pytest.mark.django_db
def test_500_then_200_is_retried_with_backoff_and_delivered_once(two_shops, receiver):
    a = two_shops.a
    with shop_scope(a.shop):
        _subscribe(a.shop, receiver, ["customer.created"])
        make_customer(a.shop)
        webhook_events_capture(shop=a.shop)
    receiver.script = [500]
    now = timezone.now()
    assert _send(now=now).retried == 1
    with shop_scope(a.shop):
        d = WebhookDelivery.objects.for_shop(a.shop).get()
        assert (d.status, d.attempts, d.last_status) == ("queued", 1, 500)
        wait = d.next_attempt_at - now
        assert 0.9 * RETRY_DELAYS[0] <= wait <= 1.1 * RETRY_DELAYS[0]
    assert _send(now=now).claimed == 0  # not due yet
    assert _send(now=now + dt.timedelta(minutes=2)).delivered == 1
    assert list(receiver.posts.values()) == [2]  # the same delivery id, twice
    with shop_scope(a.shop):
        d.refresh_from_db()
        assert (d.status, d.attempts, d.last_status) == ("delivered", 2, 200)
        log = WebhookAttempt.objects.for_shop(a.shop).filter(delivery=d).order_by("number")
        assert [(x.number, x.http_status, x.outcome) for x in log] == [
            (1, 500, "retry"),
            (2, 200, "delivered"),
        ]
    assert _send(now=now + dt.timedelta(hours=1)).claimed == 0


@pytest.mark.django_db
def test_400_fails_without_retry_and_429_respects_retry_after(two_shops, receiver):
    a = two_shops.a
    with shop_scope(a.shop):
        _subscribe(a.shop, receiver, ["customer.created"])
        first = make_customer(a.shop)
        second = make_customer(a.shop)
        webhook_events_capture(shop=a.shop)
    receiver.script = [400, (429, {"Retry-After": "600"})]
    now = timezone.now()
    report = _send(now=now)
    assert (report.failed, report.retried) == (1, 1)
    with shop_scope(a.shop):
        rows = {d.event_id: d for d in WebhookDelivery.objects.for_shop(a.shop)}
    failed, limited = rows[first.pk], rows[second.pk]
    assert (failed.status, failed.attempts, failed.last_status) == ("failed", 1, 400)
    assert failed.last_error == "HTTP 400"
    assert limited.status == "queued" and limited.next_attempt_at == now + dt.timedelta(minutes=10)
    assert _send(now=now + dt.timedelta(minutes=5)).claimed == 0
    assert _send(now=now + dt.timedelta(days=3)).delivered == 1
    assert receiver.posts[str(failed.pk)] == 1  # never retried


@pytest.mark.django_db
def test_a_timeout_is_retried_and_retries_end_in_gave_up(two_shops, receiver):
    a = two_shops.a
    with shop_scope(a.shop):
        _subscribe(a.shop, receiver, ["customer.created"])
        make_customer(a.shop)
        webhook_events_capture(shop=a.shop)
    receiver.script = [1.5]  # answers after the client stopped waiting
    now = timezone.now()
    assert _send(now=now, timeout=0.3).retried == 1
    with shop_scope(a.shop):
        d = WebhookDelivery.objects.for_shop(a.shop).get()
        assert d.status == "queued" and d.last_status is None and "timed out" in d.last_error
    assert _send(now=now + dt.timedelta(minutes=2)).delivered == 1
    # Always 503: 1 min, 5 min, 30 min, 2 h, 12 h, then it gives up after six attempts.
    with shop_scope(a.shop):
        make_customer(a.shop)
        webhook_events_capture(shop=a.shop)
        d = WebhookDelivery.objects.for_shop(a.shop).get(status="queued")
    receiver.script = [503] * 6
    at = now
    for _ in range(6):
        at += dt.timedelta(days=1)
        _send(now=at)
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("gave_up", 6)
    assert _send(now=at + dt.timedelta(days=1)).claimed == 0
    assert receiver.posts[str(d.pk)] == 6


@pytest.mark.django_db
def test_a_connection_error_is_retried(two_shops):
    a = two_shops.a
    with Receiver() as gone:
        url = gone.url
    with shop_scope(a.shop):
        made = webhook_subscription_create(shop=a.shop, url=url, event_types=["customer.created"])
        make_customer(a.shop)
        webhook_events_capture(shop=a.shop)
    assert _send().retried == 1
    with shop_scope(a.shop):
        d = WebhookDelivery.objects.for_shop(a.shop).get(subscription=made.subscription)
        assert d.status == "queued" and d.attempts == 1 and d.last_error


def test_the_signature_verifies_and_a_tampered_body_or_old_timestamp_fails():
    body = b'{"type":"purchase.created","data":{"total":4500}}'
    header = signature_header(secret="whsec_x", body=body, timestamp=1_700_000_000)
    assert signature_verify(secret="whsec_x", header=header, body=body, now=1_700_000_100)
    tampered = body.replace(b"4500", b"450")
    assert not signature_verify(secret="whsec_x", header=header, body=tampered, now=1_700_000_100)
    assert not signature_verify(secret="other", header=header, body=body, now=1_700_000_100)
    assert not signature_verify(secret="whsec_x", header=header, body=body, now=1_700_000_301)
    assert not signature_verify(secret="whsec_x", header="t=x,v1=y", body=body)


@pytest.mark.django_db
def test_the_receiver_refuses_a_tampered_request(two_shops, receiver):
    a = two_shops.a
    with shop_scope(a.shop):
        _subscribe(a.shop, receiver, ["customer.created"])
    receiver.secret = "not-the-secret"  # what a receiver sees when the body or key is wrong
    with shop_scope(a.shop):
        make_customer(a.shop)
        webhook_events_capture(shop=a.shop)
    assert _send().failed == 1
    assert receiver.refused == 1 and receiver.verified == 0


@pytest.mark.django_db
def test_another_shops_subscription_never_receives_this_shops_events(two_shops):
    a, b = two_shops.a, two_shops.b
    with Receiver() as ra, Receiver() as rb:
        with shop_scope(a.shop):
            _subscribe(a.shop, ra)
        with shop_scope(b.shop):
            _subscribe(b.shop, rb)
        _every_event(a)
        for shop in (a.shop, b.shop):
            with shop_scope(shop):
                webhook_events_capture(shop=shop)
        assert _send().delivered == 6
        assert sum(ra.posts.values()) == 6 and sum(rb.posts.values()) == 0
        with shop_scope(b.shop):
            make_customer(b.shop)
            webhook_events_capture(shop=b.shop)
        assert _send().delivered == 1
        assert sum(ra.posts.values()) == 6 and sum(rb.posts.values()) == 1
        (body,) = rb.bodies
        assert body["type"] == "customer.created"


@pytest.mark.django_db
def test_switched_off_and_test_events(two_shops, receiver):
    a = two_shops.a
    with shop_scope(a.shop):
        sub = _subscribe(a.shop, receiver, ["customer.created"])
        webhook_test_queue(shop=a.shop, subscription=sub)
    assert _send().delivered == 1
    assert receiver.bodies[0]["type"] == "webhook.test"
    with shop_scope(a.shop):
        webhook_subscription_deactivate(shop=a.shop, subscription=sub)
        make_customer(a.shop)
        webhook_events_capture(shop=a.shop)
        assert WebhookDelivery.objects.for_shop(a.shop).count() == 1
        with pytest.raises(WebhookError):
            webhook_test_queue(shop=a.shop, subscription=sub)


def test_urls_https_only_outside_development(settings):
    settings.DANGOL_WEBHOOKS_ALLOW_LOCAL_HTTP = False
    assert webhook_url_check(url=" https://hooks.example.com/d ") == "https://hooks.example.com/d"
    for bad in (
        "http://hooks.example.com/d",
        "http://localhost:8000/x",
        "https://localhost/x",
        "https://10.0.0.5/x",
        "https://169.254.169.254/latest",
        "ftp://example.com/x",
        "https://user:pw@example.com/x",
        "",
    ):
        with pytest.raises(WebhookError):
            webhook_url_check(url=bad)
    settings.DANGOL_WEBHOOKS_ALLOW_LOCAL_HTTP = True
    assert webhook_url_check(url="http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"
    with pytest.raises(WebhookError):
        webhook_url_check(url="http://hooks.example.com/d")
