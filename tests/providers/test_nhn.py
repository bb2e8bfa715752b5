"""NHN Cloud SMS v3.0, AlimTalk v2.3 and Brand Message v1.0 against a local server that checks
the documented contract: paths with the app key, X-Secret-Key, the AlimTalk idempotency header,
one recipient with our key as recipientGroupingKey, ad text on the ad endpoints."""

from __future__ import annotations

import json
import re

import pytest

from dangol.messaging.providers import (
    DeliveryReport,
    NhnAlimtalkProvider,
    NhnBrandMessageProvider,
    NhnSmsProvider,
    OptOut,
    Outcome,
    WebhookError,
)

from .fakes import Answer, Seen
from .messages import AD_BODY, sms

APP, SECRET, SENDER_KEY = "AppKey2026abc", "SecretKey-xyz-0001", "a" * 40
SIGNATURE = "hook-signature-9f2e"


def common(seen: Seen) -> list[str]:
    problems = []
    if seen.header("X-Secret-Key") != SECRET:
        problems.append("X-Secret-Key missing or wrong")
    if seen.method == "POST" and not seen.header("Content-Type").startswith("application/json"):
        problems.append("Content-Type must be application/json;charset=UTF-8")
    return problems


def recipient_problems(body, number_field="recipientNo") -> list[str]:
    recipients = body.get("recipientList")
    if not isinstance(recipients, list) or len(recipients) != 1:
        return ["exactly one recipient per request"]
    recipient = recipients[0]
    problems = []
    if not re.fullmatch(r"0\d{8,10}", recipient.get(number_field) or ""):
        problems.append(f"{number_field} must be a domestic number")
    key = recipient.get("recipientGroupingKey")
    if not key or len(key) > 100:
        problems.append("recipientGroupingKey must carry our key (≤100 chars)")
    if body.get("senderGroupingKey") != key:
        problems.append("senderGroupingKey should carry our key too")
    return problems


def sms_contract(seen: Seen) -> list[str]:
    problems = common(seen)
    root = f"/sms/v3.0/appKeys/{APP}/sender/"
    if seen.method == "POST":
        kind = seen.path.removeprefix(root)
        if not seen.path.startswith(root) or kind not in ("sms", "mms", "ad-sms", "ad-mms"):
            return [*problems, f"unknown send path {seen.path}"]
        body = seen.json
        if not body.get("body") or not re.fullmatch(r"\d{8,13}", body.get("sendNo") or ""):
            problems.append("body and sendNo are required")
        if kind.endswith("mms") and not body.get("title"):
            problems.append("LMS/MMS need a title")
        if kind.startswith("ad-") and not (
            body["body"].startswith("(광고)")
            and re.search(
                r"(무료\s*수신\s*거부|무료\s*거부)\s*\]?\s*080[\d-]{7,}\s*$", body["body"]
            )
        ):
            problems.append("-6003: ad body without (광고) or the 080 footer")
        problems += recipient_problems(body)
    elif seen.method == "GET":
        kind, _, rest = seen.path.removeprefix(root).partition("/")
        if not seen.path.startswith(root) or kind not in ("sms", "mms"):
            problems.append(f"unknown query path {seen.path}")
        elif rest and not seen.q("recipientSeq"):
            problems.append("single search needs recipientSeq")
        elif not rest and not (
            seen.q("requestId") or (seen.q("startCreateDate") and seen.q("endCreateDate"))
        ):
            problems.append("-2011: requestId or a create-date range is required")
        for name in ("startCreateDate", "endCreateDate"):
            value = seen.q(name)
            if value and not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value):
                problems.append(f"{name} must be yyyy-MM-dd HH:mm:ss")
    return problems


def sms_sent(code=0, message="SUCCESS", seq=1):
    return {
        "header": {"isSuccessful": True, "resultCode": 0, "resultMessage": "SUCCESS"},
        "body": {
            "data": {
                "requestId": "20260501120000ReZQ6KZzAH0",
                "statusCode": "2",
                "senderGroupingKey": "k",
                "sendResultList": [
                    {
                        "recipientNo": "01012345678",
                        "resultCode": code,
                        "resultMessage": message,
                        "recipientSeq": seq,
                        "recipientGroupingKey": "k",
                    }
                ],
            }
        },
    }


def header_error(code, message):
    return {"header": {"isSuccessful": False, "resultCode": code, "resultMessage": message}}


@pytest.fixture
def sms_api(serve):
    return serve(sms_contract)


def nhn_sms(api, **options):
    return NhnSmsProvider(APP, SECRET, base_url=api.url, timeout=0.5, **options)


SMS_CASES = [
    ("accepted", Answer(200, sms_sent()), Outcome.ACCEPTED, False, ""),
    (
        "opted out",
        Answer(200, sms_sent(-6001, "Recipient Number is refused.")),
        Outcome.FAILED,
        False,
        "-6001",
    ),
    (
        "unregistered sender",
        Answer(200, header_error(-2312, "Not regist sendno.")),
        Outcome.FAILED,
        False,
        "-2312",
    ),
    (
        "emoji",
        Answer(200, header_error(-2023, "Unacceptable characters")),
        Outcome.FAILED,
        False,
        "-2023",
    ),
    (
        "too long",
        Answer(200, header_error(-2015, "exceed maximum byte")),
        Outcome.FAILED,
        False,
        "-2015",
    ),
    (
        "queue write failed",
        Answer(200, header_error(-2021, "Failed insert queue")),
        Outcome.FAILED,
        True,
        "-2021",
    ),
    (
        "system error",
        Answer(200, header_error(-9999, "System error.")),
        Outcome.UNKNOWN,
        False,
        "-9999",
    ),
    ("http 500", Answer(500, header_error(-9999, "x")), Outcome.UNKNOWN, False, "http_500"),
    ("http 503 text", Answer(503, b"Service Unavailable"), Outcome.UNKNOWN, False, "http_503"),
    ("rate limited", Answer(429, b""), Outcome.FAILED, True, "http_429"),
    ("garbage", Answer(200, b'{"header": {"isSucc'), Outcome.UNKNOWN, False, "http_200"),
    ("no header", Answer(200, {"body": {}}), Outcome.UNKNOWN, False, "http_200"),
    ("truncated", Answer(200, sms_sent(), truncate=True), Outcome.UNKNOWN, False, "no_answer"),
    ("too slow", Answer(200, sms_sent(), delay=1.5), Outcome.UNKNOWN, False, "no_answer"),
]


@pytest.mark.parametrize(
    ("answer", "outcome", "retryable", "code"),
    [c[1:] for c in SMS_CASES],
    ids=[c[0] for c in SMS_CASES],
)
def test_sms_send_outcomes(sms_api, answer, outcome, retryable, code):
    sms_api.reply(answer)
    result = nhn_sms(sms_api).send(sms())
    assert (result.outcome, result.retryable, result.code) == (outcome, retryable, code)
    assert sms_api.violations == []
    assert len(sms_api.requests) == 1


def test_sms_accepted_id_is_request_id_and_seq(sms_api):
    sms_api.reply(Answer(200, sms_sent(seq=7)))
    message = sms()
    result = nhn_sms(sms_api).send(message)
    assert result.provider_message_id == "20260501120000ReZQ6KZzAH0:7"
    seen = sms_api.requests[0]
    assert seen.path == f"/sms/v3.0/appKeys/{APP}/sender/sms"
    assert seen.json["recipientList"][0] == {
        "recipientNo": "01012345678",
        "recipientGroupingKey": message.idempotency_key,
    }
    assert seen.json["sendNo"] == "15446859"


@pytest.mark.parametrize(
    ("message_type", "kind", "body", "endpoint"),
    [
        ("SMS", "ad", AD_BODY, "ad-sms"),
        ("LMS", "ad", AD_BODY + "", "ad-mms"),
        ("LMS", "info", "단골카페 긴 안내입니다.\n" * 10, "mms"),
        ("MMS", "info", "사진과 함께 보내는 안내", "mms"),
    ],
)
def test_sms_endpoints_by_type_and_kind(sms_api, message_type, kind, body, endpoint):
    sms_api.reply(Answer(200, sms_sent()))
    message = sms(message_type=message_type, kind=kind, body=body, subject="단골카페")
    assert nhn_sms(sms_api).send(message).outcome is Outcome.ACCEPTED
    assert sms_api.requests[0].path.endswith(f"/sender/{endpoint}")
    assert sms_api.violations == []


@pytest.mark.parametrize(
    "body",
    [
        "이번 주 20% 할인\n무료수신거부 080-123-4567",  # no (광고)
        "[광고]단골카페 할인\n무료수신거부 080-123-4567",  # a variant that is not allowed
        "(광고)단골카페 할인",  # no footer
        "(광고)단골카페 할인\n무료수신거부 080-123-4567\n감사합니다",  # footer not last
    ],
)
def test_an_ad_without_the_marker_or_footer_is_refused_locally(sms_api, body):
    result = nhn_sms(sms_api).send(sms(kind="ad", body=body))
    assert (result.outcome, result.retryable, result.code) == (Outcome.FAILED, False, "local_check")
    assert sms_api.requests == []


def test_a_foreign_number_goes_as_international_recipient(sms_api):
    sms_api.reply(Answer(200, sms_sent()))
    nhn_sms(sms_api).send(sms(to="+14155550123"))
    recipient = sms_api.requests[0].json["recipientList"][0]
    assert recipient["internationalRecipientNo"] == "14155550123"
    # (our contract check insists on domestic numbers, so this one request is flagged)
    assert len(sms_api.violations) == 1


def single(status, result_code, seq=1, key="k"):
    return {
        "header": {"isSuccessful": True, "resultCode": 0, "resultMessage": "SUCCESS"},
        "body": {
            "data": {
                "requestId": "20260501120000ReZQ6KZzAH0",
                "recipientSeq": seq,
                "msgStatus": status,
                "msgStatusName": "상태",
                "resultCode": result_code,
                "resultCodeName": "결과",
                "recipientGroupingKey": key,
            }
        },
    }


@pytest.mark.parametrize(
    ("status", "result_code", "outcome"),
    [
        ("3", "1000", Outcome.DELIVERED),
        ("3", "3006", Outcome.FAILED),
        ("0", "3001", Outcome.FAILED),
        ("5", "E915", Outcome.FAILED),
        ("1", "", Outcome.ACCEPTED),
        ("2", "", Outcome.ACCEPTED),
    ],
)
def test_sms_status_by_request_id(sms_api, status, result_code, outcome):
    sms_api.reply(Answer(200, single(status, result_code, seq=3)))
    result = nhn_sms(sms_api).status(sms(), "20260501120000ReZQ6KZzAH0:3")
    assert result.outcome is outcome
    seen = sms_api.requests[0]
    assert seen.path == f"/sms/v3.0/appKeys/{APP}/sender/sms/20260501120000ReZQ6KZzAH0"
    assert seen.q("recipientSeq") == "3"
    assert sms_api.violations == []


def test_sms_status_by_grouping_key_when_no_id_is_known(sms_api):
    message = sms()
    listing = single("3", "1000", key=message.idempotency_key)
    listing["body"] = {"pageNum": 1, "totalCount": 1, "data": [listing["body"]["data"]]}
    sms_api.reply(Answer(200, listing))
    result = nhn_sms(sms_api).status(message)
    assert (result.outcome, result.provider_message_id) == (
        Outcome.DELIVERED,
        "20260501120000ReZQ6KZzAH0:1",
    )
    seen = sms_api.requests[0]
    assert seen.q("recipientGroupingKey") == message.idempotency_key
    assert sms_api.violations == []

    sms_api.reply(Answer(200, {"header": listing["header"], "body": {"data": []}}))
    missing = nhn_sms(sms_api).status(message)
    assert (missing.outcome, missing.retryable) == (Outcome.FAILED, True)


@pytest.mark.parametrize(
    "answer", [Answer(500), Answer(200, b"?"), Answer(200, {}, delay=1.5), Answer(401, {})]
)
def test_sms_status_unreadable_stays_unknown(sms_api, answer):
    sms_api.reply(answer)
    assert nhn_sms(sms_api).status(sms(), "R:1").outcome is Outcome.UNKNOWN


# --- SMS webhooks ----------------------------------------------------------------------------


def hook_body(event, hooks, app=APP):
    return json.dumps(
        {
            "hooksId": "202605011200001010sadasdavas",
            "webhookConfigId": "cfg",
            "productName": "SMS",
            "appKey": app,
            "event": event,
            "hooks": hooks,
        },
        ensure_ascii=False,
    ).encode()


RESULT_HOOK = {
    "hookId": "20260501205809GcSUXthVA00",
    "senderType": "NORMAL_SMS",
    "requestId": "20260501205802y0Tl7Gbz0e0",
    "recipientSeq": 1,
    "requestDate": "2026-05-01T20:58:02",
    "receiveDate": "2026-05-01T20:58:04",
    "sendNo": "15446859",
    "recipientNo": "01012345678",
    "messageStatus": "COMPLETED",
    "recipientGroupingKey": "auto-7:step-2",
    "senderGroupingKey": "auto-7:step-2",
    "resultCode": "1000",
    "messageCount": 1,
}


def test_sms_webhook_results_and_opt_outs():
    provider = NhnSmsProvider(APP, SECRET, webhook_signature=SIGNATURE)
    failed = {**RESULT_HOOK, "recipientSeq": 2, "messageStatus": "FAILED_AD", "resultCode": "3012"}
    # NHN's own example spells the field "recipientGropuingKey"
    typo = {**RESULT_HOOK, "recipientSeq": 3}
    typo["recipientGropuingKey"] = typo.pop("recipientGroupingKey")
    body = hook_body("MESSAGE_RESULT_UPDATE", [RESULT_HOOK, failed, typo])
    reports = provider.parse_webhook(body, {"X-Toast-Webhook-Signature": SIGNATURE})
    assert reports == [
        DeliveryReport(
            "20260501205802y0Tl7Gbz0e0:1", "auto-7:step-2", Outcome.DELIVERED, "1000", "COMPLETED"
        ),
        DeliveryReport(
            "20260501205802y0Tl7Gbz0e0:2", "auto-7:step-2", Outcome.FAILED, "3012", "FAILED_AD"
        ),
        DeliveryReport(
            "20260501205802y0Tl7Gbz0e0:3", "auto-7:step-2", Outcome.DELIVERED, "1000", "COMPLETED"
        ),
    ]
    # delivered twice (NHN retries): parses identically, the outbox dedupes by provider id
    assert provider.parse_webhook(body, {"x-toast-webhook-signature": SIGNATURE}) == reports

    opt_out = hook_body(
        "UNSUBSCRIBE",
        [
            {
                "hookId": "h1",
                "recipientNo": "01012341234",
                "unsubscribeNo": "08012341234",
                "enterpriseName": "단골카페",
                "createdDateTime": "2026-05-01T11:25:10.000+09:00",
            }
        ],
    )
    assert provider.parse_webhook(opt_out, {"X-Toast-Webhook-Signature": SIGNATURE}) == [
        OptOut(phone="+821012341234", at="2026-05-01T11:25:10.000+09:00")
    ]
    other = hook_body("CONVERSION_BLOCK", [{"hookId": "h", "countryCode": "1"}])
    assert provider.parse_webhook(other, {"X-Toast-Webhook-Signature": SIGNATURE}) == []


@pytest.mark.parametrize(
    ("configured", "headers", "body"),
    [
        (SIGNATURE, {"X-Toast-Webhook-Signature": "forged"}, hook_body("UNSUBSCRIBE", [])),
        (SIGNATURE, {}, hook_body("UNSUBSCRIBE", [])),
        ("", {"X-Toast-Webhook-Signature": ""}, hook_body("UNSUBSCRIBE", [])),
        # a body changed in transit: another app key, a broken document, a hook without ids
        (
            SIGNATURE,
            {"X-Toast-Webhook-Signature": SIGNATURE},
            hook_body("UNSUBSCRIBE", [], app="X"),
        ),
        (SIGNATURE, {"X-Toast-Webhook-Signature": SIGNATURE}, hook_body("UNSUBSCRIBE", [])[:-7]),
        (
            SIGNATURE,
            {"X-Toast-Webhook-Signature": SIGNATURE},
            hook_body("MESSAGE_RESULT_UPDATE", [{}]),
        ),
        (
            SIGNATURE,
            {"X-Toast-Webhook-Signature": SIGNATURE},
            hook_body("UNSUBSCRIBE", [{"hookId": "h"}]),
        ),
        (SIGNATURE, {"X-Toast-Webhook-Signature": SIGNATURE}, b'{"event": "UNSUBSCRIBE"}'),
    ],
)
def test_sms_webhook_refusals(configured, headers, body):
    with pytest.raises(WebhookError):
        NhnSmsProvider(APP, SECRET, webhook_signature=configured).parse_webhook(body, headers)


# --- AlimTalk ----------------------------------------------------------------------------------


def kakao_contract(product: str, suffix: str):
    root = f"{product}/appkeys/{APP}"

    def check(seen: Seen) -> list[str]:
        problems = common(seen)
        if seen.method == "POST":
            if seen.path != f"{root}/{suffix}":
                return [*problems, f"wrong send path {seen.path}"]
            body = seen.json
            key = (body.get("recipientList") or [{}])[0].get("recipientGroupingKey")
            if seen.header("X-NC-API-IDEMPOTENCY-KEY") != key or not key:
                problems.append("X-NC-API-IDEMPOTENCY-KEY must be our key")
            if len(body.get("senderKey") or "") != 40:
                problems.append("senderKey must be 40 characters")
            problems += recipient_problems(body)
            recipient = (body.get("recipientList") or [{}])[0]
            resend = recipient.get("resendParameter") or {}
            if not isinstance(resend.get("isResend"), bool):
                problems.append("resendParameter.isResend must be a boolean")
            if resend.get("isResend"):
                if resend.get("resendType") not in ("SMS", "LMS"):
                    problems.append("resendType must be SMS or LMS")
                if not resend.get("resendContent") or not resend.get("resendSendNo"):
                    problems.append("a fallback needs resendContent and resendSendNo")
            if suffix == "messages":
                if not 0 < len(body.get("templateCode") or "") <= 20:
                    problems.append("templateCode (≤20) is required")
                if not isinstance(recipient.get("templateParameter"), dict):
                    problems.append("templateParameter must be an object")
            else:
                if body.get("chatBubbleType") != "TEXT" or not body.get("content"):
                    problems.append("a TEXT bubble needs content")
                if recipient.get("targeting") != "I":
                    problems.append("targeting must be I for a small shop")
        elif seen.method == "GET":
            if not seen.path.startswith(f"{root}/messages"):
                problems.append(f"wrong query path {seen.path}")
            rest = seen.path.removeprefix(f"{root}/messages").strip("/")
            if rest and len(rest.split("/")) != 2:
                problems.append("single search is /messages/{requestId}/{recipientSeq}")
            if not rest and not (seen.q("requestId") or seen.q("startCreateDate")):
                problems.append("requestId or a date range is required")
            for name in ("startCreateDate", "endCreateDate"):
                value = seen.q(name)
                if value and not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", value):
                    problems.append(f"{name} must be yyyy-MM-dd HH:mm")
        return problems

    return check


def kakao_sent(code=0, message="SUCCESS"):
    return {
        "header": {"resultCode": 0, "resultMessage": "SUCCESS", "isSuccessful": True},
        "message": {
            "requestId": "20260501120000kakaoREQ01",
            "senderGroupingKey": "k",
            "sendResults": [
                {
                    "recipientSeq": 1,
                    "recipientNo": "01012345678",
                    "resultCode": code,
                    "resultMessage": message,
                    "recipientGroupingKey": "k",
                }
            ],
        },
    }


def alimtalk_message(**overrides):
    values = {
        "channel": "alimtalk",
        "message_type": "ALIMTALK",
        "template_code": "POINT_SAVED",
        "variables": {"이름": "김단골", "#{포인트}": "1,200"},
        "body": "김단골님, 1,200 포인트가 적립되었습니다.",
        "fallback_body": "단골카페: 1,200 포인트 적립",
    }
    values.update(overrides)
    return sms(**values)


@pytest.fixture
def alimtalk_api(serve):
    return serve(kakao_contract("/alimtalk/v2.3", "messages"))


def alimtalk(api):
    return NhnAlimtalkProvider(APP, SECRET, SENDER_KEY, base_url=api.url, timeout=0.5)


KAKAO_CASES = [
    ("accepted", Answer(200, kakao_sent()), Outcome.ACCEPTED, False, ""),
    (
        "duplicate key",
        Answer(200, header_error(-1005, "same key")),
        Outcome.UNKNOWN,
        False,
        "-1005",
    ),
    (
        "bad sender key",
        Answer(200, header_error(-1006, "no senderKey")),
        Outcome.FAILED,
        False,
        "-1006",
    ),
    ("validation", Answer(200, header_error(4, "templateCode")), Outcome.FAILED, False, "4"),
    ("recipient refused", Answer(200, kakao_sent(-2019, "bad")), Outcome.FAILED, False, "-2019"),
    (
        "system error",
        Answer(200, header_error(-9999, "System error")),
        Outcome.UNKNOWN,
        False,
        "-9999",
    ),
    ("http 500", Answer(500, b""), Outcome.UNKNOWN, False, "http_500"),
    ("garbage", Answer(200, b"\x00\xff"), Outcome.UNKNOWN, False, "http_200"),
    ("truncated", Answer(200, kakao_sent(), truncate=True), Outcome.UNKNOWN, False, "no_answer"),
    ("too slow", Answer(200, kakao_sent(), delay=1.5), Outcome.UNKNOWN, False, "no_answer"),
]


@pytest.mark.parametrize(
    ("answer", "outcome", "retryable", "code"),
    [c[1:] for c in KAKAO_CASES],
    ids=[c[0] for c in KAKAO_CASES],
)
def test_alimtalk_send_outcomes(alimtalk_api, answer, outcome, retryable, code):
    alimtalk_api.reply(answer)
    result = alimtalk(alimtalk_api).send(alimtalk_message())
    assert (result.outcome, result.retryable, result.code) == (outcome, retryable, code)
    assert alimtalk_api.violations == []


def test_alimtalk_body_and_idempotency_header(alimtalk_api):
    alimtalk_api.reply(Answer(200, kakao_sent()))
    message = alimtalk_message()
    result = alimtalk(alimtalk_api).send(message)
    assert result.provider_message_id == "20260501120000kakaoREQ01:1"
    seen = alimtalk_api.requests[0]
    assert seen.header("X-NC-API-IDEMPOTENCY-KEY") == message.idempotency_key
    recipient = seen.json["recipientList"][0]
    assert recipient["templateParameter"] == {"이름": "김단골", "포인트": "1,200"}
    assert recipient["resendParameter"] == {
        "isResend": True,
        "resendType": "SMS",
        "resendContent": "단골카페: 1,200 포인트 적립",
        "resendSendNo": "15446859",
    }
    long = alimtalk_message(fallback_body="긴 대체 문자 " * 20, fallback_subject="단골카페")
    alimtalk(alimtalk_api).send(long)
    resend = alimtalk_api.requests[1].json["recipientList"][0]["resendParameter"]
    assert (resend["resendType"], resend["resendTitle"]) == ("LMS", "단골카페")
    alimtalk(alimtalk_api).send(alimtalk_message(fallback_body=""))
    assert alimtalk_api.requests[2].json["recipientList"][0]["resendParameter"] == {
        "isResend": False
    }
    assert alimtalk_api.violations == []


def test_alimtalk_refuses_ads_and_missing_templates(alimtalk_api):
    provider = alimtalk(alimtalk_api)
    for message in (alimtalk_message(kind="ad"), alimtalk_message(template_code="")):
        result = provider.send(message)
        assert (result.outcome, result.retryable, result.code) == (
            Outcome.FAILED,
            False,
            "local_check",
        )
    assert alimtalk_api.requests == []


def kakao_row(status, resend="RSC01", code="1000"):
    return {
        "requestId": "20260501120000kakaoREQ01",
        "recipientSeq": 1,
        "messageStatus": status,
        "resendStatus": resend,
        "resultCode": code,
        "resultCodeName": "결과",
    }


@pytest.mark.parametrize(
    ("row", "outcome"),
    [
        (kakao_row("COMPLETED"), Outcome.DELIVERED),
        (kakao_row("FAILED", "RSC04", "3018"), Outcome.DELIVERED),  # delivered by SMS fallback
        (kakao_row("FAILED", "RSC03", "3018"), Outcome.ACCEPTED),  # fallback on its way
        (kakao_row("FAILED", "RSC05", "3018"), Outcome.FAILED),
        (kakao_row("CANCEL"), Outcome.FAILED),
        (kakao_row("READY"), Outcome.ACCEPTED),
    ],
)
def test_alimtalk_status(alimtalk_api, row, outcome):
    ok = {"resultCode": 0, "resultMessage": "SUCCESS", "isSuccessful": True}
    alimtalk_api.reply(Answer(200, {"header": ok, "message": row}))
    result = alimtalk(alimtalk_api).status(alimtalk_message(), "20260501120000kakaoREQ01:1")
    assert result.outcome is outcome
    assert alimtalk_api.requests[0].path.endswith("/messages/20260501120000kakaoREQ01/1")
    message = alimtalk_message()
    alimtalk_api.reply(
        Answer(200, {"header": ok, "messageSearchResultResponse": {"messages": [row]}})
    )
    assert alimtalk(alimtalk_api).status(message).outcome is outcome
    assert alimtalk_api.requests[1].q("recipientGroupingKey") == message.idempotency_key
    alimtalk_api.reply(Answer(200, {"header": ok, "messageSearchResultResponse": {"messages": []}}))
    missing = alimtalk(alimtalk_api).status(message)
    assert (missing.outcome, missing.retryable) == (Outcome.FAILED, True)
    assert alimtalk_api.violations == []


def test_kakao_webhook():
    provider = NhnAlimtalkProvider(APP, SECRET, SENDER_KEY, webhook_signature=SIGNATURE)
    hook = {
        "kakaoMessageType": "ALIMTALK_NORMAL",
        "requestId": "20260501120000kakaoREQ01",
        "recipientSeq": 1,
        "recipientNo": "01012345678",
        "resultCode": "1000",
        "recipientGroupingKey": "auto-7:step-2",
        "hookId": "h1",
    }
    failed = {**hook, "recipientSeq": 2, "resultCode": "3018"}
    body = json.dumps(
        {
            "hooksId": "x",
            "productName": "KakaoTalk Bizmessage",
            "appKey": APP,
            "event": "MESSAGE_RESULT_UPDATE",
            "hooks": [hook, failed],
        }
    ).encode()
    reports = provider.parse_webhook(body, {"X-Toast-Webhook-Signature": SIGNATURE})
    assert [(r.provider_message_id, r.outcome) for r in reports] == [
        ("20260501120000kakaoREQ01:1", Outcome.DELIVERED),
        ("20260501120000kakaoREQ01:2", Outcome.FAILED),
    ]
    assert provider.parse_webhook(body, {"X-Toast-Webhook-Signature": SIGNATURE}) == reports
    with pytest.raises(WebhookError):
        provider.parse_webhook(body, {"X-Toast-Webhook-Signature": SIGNATURE + "x"})
    with pytest.raises(WebhookError):
        provider.parse_webhook(body.replace(b"REQ01", b"REQ0\xff"), {})


# --- Brand Message -----------------------------------------------------------------------------


@pytest.fixture
def brand_api(serve):
    return serve(kakao_contract("/brand-message/v1.0", "freestyle-messages"))


def test_brand_message_targets_friends_and_checks_its_ad_fallback(brand_api):
    brand_api.reply(Answer(200, kakao_sent()))
    provider = NhnBrandMessageProvider(
        APP, SECRET, SENDER_KEY, base_url=brand_api.url, timeout=0.5, unsubscribe_no="0801234567"
    )
    message = sms(channel="brand", message_type="BRAND", kind="ad", body="이번 주 20% 할인!")
    assert provider.send(message).outcome is Outcome.ACCEPTED
    with_fallback = sms(
        channel="brand", message_type="BRAND", kind="ad", body="할인!", fallback_body=AD_BODY
    )
    assert provider.send(with_fallback).outcome is Outcome.ACCEPTED
    first, second = (seen.json for seen in brand_api.requests)
    assert first["recipientList"][0]["targeting"] == "I"
    assert first["unsubscribeNo"] == "0801234567"
    assert second["recipientList"][0]["resendParameter"]["resendUnsubscribeNo"] == "0801234567"
    assert brand_api.violations == []

    bad_fallback = sms(
        channel="brand", message_type="BRAND", kind="ad", body="할인!", fallback_body="할인!"
    )
    result = provider.send(bad_fallback)
    assert (result.outcome, result.retryable, result.code) == (Outcome.FAILED, False, "local_check")
    assert len(brand_api.requests) == 2

    brand_api.reply(Answer(502, b"bad gateway"))
    assert provider.send(message).outcome is Outcome.UNKNOWN
    brand_api.reply(Answer(200, kakao_sent(), delay=1.5))
    assert provider.send(message).outcome is Outcome.UNKNOWN
