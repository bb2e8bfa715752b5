"""SMTP against a real SMTP server (aiosmtpd) on 127.0.0.1: the message as received, and the
outcome for 250, 451, 550 and a connection dropped after the message text was sent."""

from __future__ import annotations

import email
import email.policy

import pytest
from aiosmtpd.controller import Controller

from dangol.messaging.providers import Outcome, SmtpProvider
from dangol.messaging.providers.base import OutgoingMessage
from dangol.messaging.providers.smtp import message_id_for

from .fakes import free_port


class Handler:
    def __init__(self, *, pipelining: bool = False) -> None:
        self.mode = "ok"
        self.received: list[bytes] = []
        self.pipelining = pipelining
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sessions += 1
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "rcpt451":
            return "451 4.7.1 Greylisted, come back later"
        if self.mode == "rcpt550":
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "451":
            return "451 4.3.0 Temporary failure, try again later"
        if self.mode == "550":
            return "550 5.7.1 Message rejected as spam"
        if self.mode == "drop":
            server.transport.abort()  # the text arrived; the reply never will
            return "250 2.0.0 never seen"
        self.received.append(envelope.content)
        return "250 2.0.0 Ok: queued as 4FZ1x2"


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelining"])
def smtpd(request):
    handler = Handler(pipelining=request.param)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller
    controller.stop()


def provider(controller, **options) -> SmtpProvider:
    return SmtpProvider(
        controller.hostname,
        controller.port,
        from_address="단골카페 <hello@dangol-cafe.kr>",
        timeout=2.0,
        **options,
    )


def mail(**overrides) -> OutgoingMessage:
    values = {
        "idempotency_key": "auto-3:step-1:cust-88:email:2026-05-01",
        "channel": "email",
        "message_type": "EMAIL",
        "kind": "ad",
        "to": "guest@example.com",
        "sender": "",
        "subject": "(광고) 단골카페 5월의 새 메뉴 — 딸기 라떼 20% 할인",
        "body": "안녕하세요, 김단골님!\n\n이번 달 새 메뉴를 20% 할인해 드립니다.\n"
        "단골카페 · 서울시 마포구 · 02-123-4567 · hello@dangol-cafe.kr\n"
        "수신거부: https://dangol.example/u/Zx81kQ",
        "unsubscribe_url": "https://dangol.example/u/Zx81kQ-very-long-opaque-token-0123456789abcdef",
        "unsubscribe_mailto": "unsubscribe+Zx81kQ@dangol-cafe.kr",
    }
    values.update(overrides)
    return OutgoingMessage(**values)


def test_delivered_message_has_the_headers_and_korean_text(smtpd):
    handler, controller = smtpd
    message = mail()
    result = provider(controller).send(message)
    assert result.outcome is Outcome.DELIVERED
    assert result.code == "250" and "queued as 4FZ1x2" in result.detail
    expected_id = message_id_for(message.idempotency_key, "dangol-cafe.kr")
    assert result.provider_message_id == expected_id

    (raw,) = handler.received
    received = email.message_from_bytes(raw, policy=email.policy.default)
    assert received["Subject"] == message.subject
    assert str(received["Subject"]).startswith("(광고)")
    assert received["Message-ID"] == expected_id
    assert received["X-Dangol-Idempotency-Key"] == message.idempotency_key
    assert received["List-Unsubscribe"] == (
        f"<{message.unsubscribe_url}>, <mailto:{message.unsubscribe_mailto}>"
    )
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["From"].addresses[0].display_name == "단골카페"
    assert received.get_content_charset() == "utf-8"
    # text/* travels in canonical form (CRLF line ends) inside the base64/QP body
    assert received.get_content().replace("\r\n", "\n") == message.body + "\n"
    # the raw header is 7-bit (encoded words) and List-Unsubscribe stays on one line
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(byte < 128 for byte in head)
    line = next(x for x in head.split(b"\r\n") if x.startswith(b"List-Unsubscribe:"))
    assert b"mailto:" in line


def test_an_information_mail_without_links_has_no_unsubscribe_headers(smtpd):
    handler, controller = smtpd
    info = mail(kind="info", subject="예약 확인", unsubscribe_url="", unsubscribe_mailto="")
    assert provider(controller).send(info).outcome is Outcome.DELIVERED
    received = email.message_from_bytes(handler.received[0], policy=email.policy.default)
    assert "List-Unsubscribe" not in received and "List-Unsubscribe-Post" not in received


def test_the_same_key_gives_the_same_message_id(smtpd):
    _, controller = smtpd
    smtp = provider(controller)
    first, second = smtp.send(mail()), smtp.send(mail())
    assert first.provider_message_id == second.provider_message_id
    other = smtp.send(mail(idempotency_key="another"))
    assert other.provider_message_id != first.provider_message_id


@pytest.mark.parametrize(
    ("mode", "outcome", "retryable", "code"),
    [
        ("451", Outcome.FAILED, True, "451"),
        ("550", Outcome.FAILED, False, "550"),
        ("drop", Outcome.UNKNOWN, False, "no_answer"),
        ("rcpt451", Outcome.FAILED, True, "451"),
        ("rcpt550", Outcome.FAILED, False, "550"),
    ],
)
def test_server_answers(smtpd, mode, outcome, retryable, code):
    handler, controller = smtpd
    handler.mode = mode
    result = provider(controller).send(mail())
    assert (result.outcome, result.retryable, result.code) == (outcome, retryable, code)
    assert handler.received == []


def test_no_server_is_retryable_because_nothing_was_sent():
    smtp = SmtpProvider("127.0.0.1", free_port(), from_address="a@b.kr", timeout=1.0)
    result = smtp.send(mail())
    assert (result.outcome, result.retryable, result.code) == (
        Outcome.FAILED,
        True,
        "connect_error",
    )


@pytest.mark.parametrize(
    "message",
    [
        mail(subject="단골카페 5월의 새 메뉴"),  # an ad without (광고)
        mail(subject="[광고] 단골카페"),
        mail(unsubscribe_url=""),  # an ad without one-click unsubscribe
        mail(unsubscribe_url="http://dangol.example/u/x"),
        mail(to="not-an-address"),
    ],
)
def test_refused_before_connecting(smtpd, message):
    handler, controller = smtpd
    result = provider(controller).send(message)
    assert (result.outcome, result.retryable, result.code) == (Outcome.FAILED, False, "local_check")
    assert handler.received == []


def test_status_says_smtp_has_none(smtpd):
    _, controller = smtpd
    result = provider(controller).status(mail(), "<x@y>")
    assert result.outcome is Outcome.UNKNOWN
    assert "250" in result.detail


def test_a_refused_recipient_leaves_the_connection_ready_for_the_next_message(smtpd):
    handler, controller = smtpd
    smtp = provider(controller)
    handler.mode = "rcpt550"
    assert smtp.send(mail()).outcome is Outcome.FAILED
    handler.mode = "ok"
    assert smtp.send(mail(idempotency_key="next")).outcome is Outcome.DELIVERED
    assert handler.sessions == 1  # the same session, reset, not a new one
    (raw,) = handler.received
    assert b"X-Dangol-Idempotency-Key: next" in raw


def test_parallel_sends_use_at_most_the_configured_connections(smtpd):
    from dangol.messaging.sending import send_all

    handler, controller = smtpd
    smtp = provider(controller, connections=3)
    messages = [mail(idempotency_key=f"key-{i}", to=f"guest{i}@example.com") for i in range(60)]
    answers = {}
    send_all([(m.idempotency_key, m, smtp) for m in messages], answers.__setitem__)
    smtp.close()
    assert {a.outcome for a in answers.values()} == {Outcome.DELIVERED}
    keys = [
        email.message_from_bytes(raw, policy=email.policy.default)["X-Dangol-Idempotency-Key"]
        for raw in handler.received
    ]
    assert sorted(keys) == sorted(answers) and len(set(keys)) == 60
    assert 1 <= handler.sessions <= 3


@pytest.mark.parametrize(
    "message",
    [
        mail(subject="예약 확인\r\nBcc: victim@example.com", kind="info"),
        mail(to="guest@example.com\r\nRCPT TO:<victim@example.com>"),
        mail(to="손님@example.com"),
    ],
)
def test_line_breaks_and_non_ascii_addresses_are_refused_before_connecting(smtpd, message):
    handler, controller = smtpd
    result = provider(controller).send(message)
    assert (result.outcome, result.code) == (Outcome.FAILED, "build_error")
    assert handler.received == [] and handler.sessions == 0
