"""Solapi against a local server that checks the documented contract: HMAC-SHA256 auth
recomputed from the secret (Date within 15 minutes, a salt never reused), the send-many/detail
body with one message and our key in customFields, and the message-list query."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from dangol.messaging.providers import Outcome, SolapiProvider, WebhookError
from dangol.messaging.providers.solapi import CUSTOM_FIELD

from .fakes import Answer, Seen
from .messages import AD_BODY, sms

KEY, SECRET = "NCSTESTKEY000001", "TESTSECRET-0123456789ABCDEFGHIJKL"
AUTH = re.compile(
    r"^HMAC-SHA256 ApiKey=(?P<key>[^,\s]+), Date=(?P<date>[^,\s]+), "
    r"salt=(?P<salt>[^,\s]+), signature=(?P<sig>[0-9a-f]{64})$"
)
TYPES = {"SMS", "LMS", "MMS", "ATA", "CTA", "CTI", "BMS_FREE"}


def solapi_contract():
    salts: set[str] = set()

    def check(seen: Seen) -> list[str]:
        problems = []
        match = AUTH.match(seen.header("Authorization"))
        if not match:
            return [f"bad Authorization header {seen.header('Authorization')!r}"]
        if match["key"] != KEY:
            problems.append("wrong ApiKey")
        expected = hmac.new(
            SECRET.encode(), (match["date"] + match["salt"]).encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, match["sig"]):
            problems.append("signature does not match HMAC-SHA256(secret, Date+salt)")
        try:
            date = datetime.fromisoformat(match["date"].replace("Z", "+00:00"))
            if date.tzinfo is None or abs(datetime.now(UTC) - date) > timedelta(minutes=15):
                problems.append("Date is more than 15 minutes off (RequestTimeTooSkewed)")
        except ValueError:
            problems.append("Date is not ISO-8601")
        if match["salt"] in salts:
            problems.append("salt reused (DuplicatedSignature)")
        salts.add(match["salt"])
        if seen.method == "POST":
            if seen.path != "/messages/v4/send-many/detail":
                problems.append("wrong send path")
            if not seen.header("Content-Type").startswith("application/json"):
                problems.append("not JSON")
            problems += _message_problems(seen.json)
        elif seen.method == "GET":
            if seen.path != "/messages/v4/list":
                problems.append("wrong list path")
            criteria = seen.q("criteria").split(",")
            if not (
                len(criteria) == len(seen.q("cond").split(",")) == len(seen.q("value").split(","))
            ):
                problems.append("criteria/cond/value do not line up")
        else:
            problems.append("unexpected method")
        return problems

    return check


def _message_problems(body) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return ["body must be {messages: [...]}"]
    if len(body["messages"]) != 1:
        return ["exactly one message per request"]
    message = body["messages"][0]
    problems = [f"missing {name}" for name in ("to", "from", "type") if not message.get(name)]
    if message.get("type") not in TYPES:
        problems.append(f"unknown type {message.get('type')!r}")
    if not re.fullmatch(r"0\d{8,10}", message.get("to", "")):
        problems.append("to must be a domestic number")
    fields = message.get("customFields") or {}
    key = fields.get(CUSTOM_FIELD)
    if not isinstance(key, str) or not key or len(key) > 100 or len(CUSTOM_FIELD) > 30:
        problems.append("customFields must carry the idempotency key (≤100 chars)")
    if message.get("type") in ("ATA", "BMS_FREE"):
        options = message.get("kakaoOptions") or {}
        if not options.get("pfId"):
            problems.append("kakaoOptions.pfId missing")
        if not isinstance(options.get("disableSms"), bool):
            problems.append("kakaoOptions.disableSms must be a boolean")
        if message["type"] == "ATA":
            if not options.get("templateId"):
                problems.append("ATA needs templateId")
            if any(not re.fullmatch(r"#\{.+\}", k) for k in options.get("variables", {})):
                problems.append("variables must be written #{name}")
        if message["type"] == "BMS_FREE" and (options.get("bms") or {}).get("targeting") != "I":
            problems.append("brand targeting must be I")
    elif message.get("type") == "SMS" and "subject" in message:
        problems.append("SMS has no subject (1013)")
    if not message.get("text"):
        problems.append("text missing")
    return problems


def accepted(message_id="M4V20260501120000ABCDEFGHIJKLMN"):
    return {
        "groupInfo": {
            "groupId": "G4V20260501120000ABCDEFGHIJKLMN",
            "count": {"total": 1, "registeredSuccess": 1, "registeredFailed": 0},
            "status": "SENDING",
        },
        "failedMessageList": [],
        "messageList": [
            {"messageId": message_id, "statusCode": "2000", "statusMessage": "정상 접수"}
        ],
    }


def failed(code, text="실패"):
    return {
        "groupInfo": {"count": {"total": 1, "registeredSuccess": 0, "registeredFailed": 1}},
        "failedMessageList": [
            {
                "to": "01012345678",
                "from": "15446859",
                "type": "SMS",
                "statusMessage": text,
                "country": "82",
                "messageId": "M4V20260501120000FAILEDFAILED01",
                "statusCode": code,
                "accountId": "12925149",
            }
        ],
        "messageList": [],
    }


@pytest.fixture
def api(serve):
    return serve(solapi_contract())


def provider(api, **options):
    return SolapiProvider(KEY, SECRET, base_url=api.url, pf_id="KA01PF2026", timeout=0.5, **options)


CASES = [
    ("accepted", Answer(200, accepted()), Outcome.ACCEPTED, False, "2000"),
    ("opted out 080", Answer(200, failed("1061", "080 수신거부")), Outcome.FAILED, False, "1061"),
    ("opted out 2061", Answer(200, failed("2061")), Outcome.FAILED, False, "2061"),
    (
        "unregistered sender",
        Answer(200, failed("1062", "발신번호 미등록")),
        Outcome.FAILED,
        False,
        "1062",
    ),
    ("not EUC-KR", Answer(200, failed("1029")), Outcome.FAILED, False, "1029"),
    ("provider server error at intake", Answer(200, failed("1024")), Outcome.FAILED, True, "1024"),
    ("balance empty", Answer(200, failed("1030")), Outcome.FAILED, True, "1030"),
    (
        "invalid key",
        Answer(401, {"errorCode": "InvalidAPIKey", "errorMessage": "no such key"}),
        Outcome.FAILED,
        False,
        "InvalidAPIKey",
    ),
    (
        "clock skew",
        Answer(403, {"errorCode": "RequestTimeTooSkewed", "errorMessage": "skewed"}),
        Outcome.FAILED,
        True,
        "RequestTimeTooSkewed",
    ),
    (
        "rate limited",
        Answer(429, {"errorCode": "TooManyRequests"}),
        Outcome.FAILED,
        True,
        "http_429",
    ),
    ("http 500", Answer(500, {"errorCode": "InternalError"}), Outcome.UNKNOWN, False, "http_500"),
    ("http 502 html", Answer(502, b"<html>bad gateway</html>"), Outcome.UNKNOWN, False, "http_502"),
    ("garbage", Answer(200, b"<html>maintenance</html>"), Outcome.UNKNOWN, False, "http_200"),
    ("truncated", Answer(200, accepted(), truncate=True), Outcome.UNKNOWN, False, "no_answer"),
    ("too slow", Answer(200, accepted(), delay=1.5), Outcome.UNKNOWN, False, "no_answer"),
    (
        "empty lists",
        Answer(200, {"messageList": [], "failedMessageList": []}),
        Outcome.UNKNOWN,
        False,
        "http_200",
    ),
]


@pytest.mark.parametrize(
    ("answer", "outcome", "retryable", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_send_outcomes(api, answer, outcome, retryable, code):
    api.reply(answer)
    result = provider(api).send(sms())
    assert (result.outcome, result.retryable, result.code) == (outcome, retryable, code)
    assert api.violations == []
    assert len(api.requests) == 1


def test_accepted_keeps_the_message_id_and_sends_the_key(api):
    api.reply(Answer(200, accepted("M4VABC")))
    message = sms(message_type="LMS", subject="단골카페 안내", body="긴 안내 " * 20)
    result = provider(api).send(message)
    assert result.provider_message_id == "M4VABC"
    sent = api.requests[0].json["messages"][0]
    assert sent["to"] == "01012345678" and sent["from"] == "15446859"
    assert sent["type"] == "LMS" and sent["subject"] == "단골카페 안내"
    assert sent["customFields"] == {CUSTOM_FIELD: message.idempotency_key}
    assert api.violations == []


def test_alimtalk_and_brand_message_options(api):
    api.reply(Answer(200, accepted()))
    solapi = provider(api)
    alimtalk = sms(
        channel="alimtalk",
        message_type="ALIMTALK",
        template_code="TPL_POINT_01",
        variables={"이름": "김단골", "#{포인트}": "1,200"},
        fallback_body="단골카페: 포인트 1,200점 적립",
    )
    brand = sms(channel="brand", message_type="BRAND", kind="ad", body=AD_BODY)
    assert solapi.send(alimtalk).outcome is Outcome.ACCEPTED
    assert solapi.send(brand).outcome is Outcome.ACCEPTED
    ata, bms = (seen.json["messages"][0] for seen in api.requests)
    assert ata["type"] == "ATA"
    assert ata["kakaoOptions"]["variables"] == {"#{이름}": "김단골", "#{포인트}": "1,200"}
    assert ata["kakaoOptions"]["disableSms"] is False
    assert bms["type"] == "BMS_FREE" and bms["kakaoOptions"]["disableSms"] is True
    assert api.violations == []


def test_every_request_has_a_fresh_salt_and_a_valid_signature(api):
    api.reply(Answer(200, accepted()))
    solapi = provider(api)
    for _ in range(20):
        solapi.send(sms())
    assert len(api.requests) == 20
    assert api.violations == []  # the contract check refuses any reused salt


def test_nothing_is_sent_for_a_message_solapi_cannot_take(api):
    result = provider(api).send(sms(channel="email", message_type="EMAIL", to="a@b.kr"))
    assert (result.outcome, result.retryable) == (Outcome.FAILED, False)
    result = SolapiProvider(KEY, SECRET, base_url=api.url).send(
        sms(channel="alimtalk", message_type="ALIMTALK", template_code="T")
    )
    assert result.code == "local_check"  # no pfId configured
    assert api.requests == []


def test_a_refused_connection_is_retryable_because_nothing_was_sent(api):
    from .fakes import free_port

    dead = SolapiProvider(KEY, SECRET, base_url=f"http://127.0.0.1:{free_port()}", timeout=0.5)
    result = dead.send(sms())
    assert (result.outcome, result.retryable, result.code) == (
        Outcome.FAILED,
        True,
        "connect_error",
    )


# --- status --------------------------------------------------------------------------------


def listed(message_id, code, key):
    return {
        "startKey": None,
        "limit": 20,
        "messageList": {
            message_id: {
                "messageId": message_id,
                "statusCode": code,
                "statusMessage": "상태",
                "customFields": {CUSTOM_FIELD: key},
                "to": "01012345678",
                "from": "15446859",
            }
        },
    }


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("4000", Outcome.DELIVERED),
        ("3000", Outcome.ACCEPTED),
        ("2000", Outcome.ACCEPTED),
        ("3059", Outcome.FAILED),
        ("3104", Outcome.FAILED),
        ("1061", Outcome.FAILED),
    ],
)
def test_status_by_message_id(api, code, outcome):
    message = sms()
    api.reply(Answer(200, listed("M4VX", code, message.idempotency_key)))
    result = provider(api).status(message, "M4VX")
    assert (result.outcome, result.code, result.provider_message_id) == (outcome, code, "M4VX")
    seen = api.requests[0]
    assert (seen.q("criteria"), seen.q("cond"), seen.q("value")) == ("messageId", "eq", "M4VX")
    assert api.violations == []


def test_status_without_an_id_finds_the_message_by_our_key(api):
    message = sms()
    other = listed("M4VOTHER", "4000", "someone-else")["messageList"]
    body = listed("M4VMINE", "3000", message.idempotency_key)
    body["messageList"].update(other)
    api.reply(Answer(200, body))
    result = provider(api).status(message)
    assert (result.outcome, result.provider_message_id) == (Outcome.ACCEPTED, "M4VMINE")
    seen = api.requests[0]
    assert seen.q("criteria") == "to,from" and seen.q("value") == "01012345678,15446859"
    assert api.violations == []


def test_status_not_found_means_safe_to_send_again(api):
    api.reply(Answer(200, {"startKey": None, "limit": 100, "messageList": {}}))
    result = provider(api).status(sms())
    assert (result.outcome, result.retryable, result.code) == (Outcome.FAILED, True, "not_found")


@pytest.mark.parametrize(
    "answer",
    [
        Answer(500, {}),
        Answer(200, b"not json"),
        Answer(200, {}, delay=1.5),
        Answer(200, {}, truncate=True),
    ],
)
def test_status_that_cannot_be_read_stays_unknown(api, answer):
    api.reply(answer)
    assert provider(api).status(sms(), "M4VX").outcome is Outcome.UNKNOWN


# --- webhook -------------------------------------------------------------------------------


def report(message_id, code, key):
    return {
        "eventDataId": "EVT1",
        "retryCount": 0,
        "data": {
            "messageId": message_id,
            "groupId": "G4V1",
            "type": "SMS",
            "to": "01012345678",
            "from": "15446859",
            "statusCode": code,
            "statusMessage": "수신 완료" if code == "4000" else "실패",
            "dateProcessed": "2026-05-01T03:00:01.000Z",
            "dateReported": "2026-05-01T03:00:05.000Z",
            "dateReceived": "2026-05-01T03:00:04.000Z",
            "networkCode": "SKT",
            "customFields": {CUSTOM_FIELD: key},
        },
    }


WEBHOOK_SECRET = "whk-3f1c2b9e5d"


def test_webhook_with_the_token_is_parsed():
    solapi = SolapiProvider(KEY, SECRET, webhook_secret=WEBHOOK_SECRET)
    body = json.dumps([report("M1", "4000", "k1"), report("M2", "3104", "k2")]).encode()
    reports = solapi.parse_webhook(body, {"X-Dangol-Webhook-Token": WEBHOOK_SECRET})
    assert [(r.provider_message_id, r.idempotency_key, r.outcome) for r in reports] == [
        ("M1", "k1", Outcome.DELIVERED),
        ("M2", "k2", Outcome.FAILED),
    ]
    assert solapi.parse_webhook(body, {}, token=WEBHOOK_SECRET) == reports  # URL token
    # Solapi retries up to five times until it gets 200: a duplicate parses identically.
    assert solapi.parse_webhook(body, {"x-dangol-webhook-token": WEBHOOK_SECRET}) == reports


@pytest.mark.parametrize(
    ("secret", "headers", "body"),
    [
        (WEBHOOK_SECRET, {"X-Dangol-Webhook-Token": "wrong"}, b"[]"),
        (WEBHOOK_SECRET, {}, b"[]"),
        ("", {"X-Dangol-Webhook-Token": ""}, b"[]"),  # no secret configured: refuse everything
        (WEBHOOK_SECRET, {"X-Dangol-Webhook-Token": WEBHOOK_SECRET}, b'[{"data": {"messageId": '),
        (WEBHOOK_SECRET, {"X-Dangol-Webhook-Token": WEBHOOK_SECRET}, b'[{"data": {}}]'),
        (WEBHOOK_SECRET, {"X-Dangol-Webhook-Token": WEBHOOK_SECRET}, b'"hello"'),
    ],
)
def test_webhook_refusals(secret, headers, body):
    with pytest.raises(WebhookError):
        SolapiProvider(KEY, SECRET, webhook_secret=secret).parse_webhook(body, headers)


def test_the_contract_check_catches_a_bad_signature_and_a_reused_salt(api, monkeypatch):
    api.reply(Answer(200, accepted()))
    SolapiProvider(KEY, "another-secret", base_url=api.url, timeout=0.5).send(sms())
    assert any("signature" in v for v in api.violations)
    api.violations.clear()
    monkeypatch.setattr("dangol.messaging.providers.solapi.secrets.token_hex", lambda n: "ab" * n)
    solapi = provider(api)
    first, second = solapi.send(sms()), solapi.send(sms())
    assert first.outcome is Outcome.ACCEPTED
    assert (second.outcome, second.retryable) == (Outcome.FAILED, False)  # 400 from the check
    assert any("salt reused" in v for v in api.violations)
