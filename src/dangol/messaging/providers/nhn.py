"""NHN Cloud Notification: SMS v3.0, KakaoTalk Bizmessage AlimTalk v2.3 and Brand Message v1.0.

Wire format (compliance-kr §3.5; TOAST-DOCS/SMS ``ko/api-guide.md``, ``ko/webhook.md``,
``ko/error-code.md``; TOAST-DOCS/Alimtalk ``ko/alimtalk-api-guide.md``,
``ko/friendtalkupgrade-api-guide.md``, ``ko/webhook-api-guide.md``):

- every call carries the app key in the path and ``X-Secret-Key``;
- one recipient per request, with ``recipientGroupingKey`` and ``senderGroupingKey`` set to our
  idempotency key, so a lost answer can be found again with the search APIs;
- the provider id we keep is ``"{requestId}:{recipientSeq}"``;
- AlimTalk and Brand Message also get ``X-NC-API-IDEMPOTENCY-KEY`` (NHN refuses the same key
  for 10 minutes with -1005; we read that as "an earlier attempt got through" → UNKNOWN, to be
  settled by ``status``). NHN SMS has no idempotency key.

Webhooks: NHN's ``X-Toast-Webhook-Signature`` header is documented as "웹훅 설정 시 입력한
서명" — the signature string we typed into the webhook settings, sent back unchanged. It is a
shared secret, not an HMAC of the body, so it authenticates the sender but cannot detect a
changed body; TLS is what protects the body in transit. We compare it in constant time, and
also refuse hooks for another app key or with a malformed body.
"""

from __future__ import annotations

import hmac
import json
import urllib.parse
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ._common import (
    KST,
    NOT_JSON,
    HttpReply,
    ad_text_problem,
    as_dict,
    as_list,
    cp949_len,
    garbage,
    http_request,
    kr_to_e164,
    now_utc,
    refused,
    short_key,
    split_phone,
    transport_outcome,
)
from .base import (
    Channel,
    DeliveryReport,
    OptOut,
    Outcome,
    OutgoingMessage,
    SendResult,
    WebhookError,
)

SIGNATURE_HEADER = "X-Toast-Webhook-Signature"
IDEMPOTENCY_HEADER = "X-NC-API-IDEMPOTENCY-KEY"

# SMS API result codes (TOAST-DOCS/SMS ko/error-code.md) where a later retry can help:
# -2021 queue write failed on NHN's side, -2052 monthly quota reached.
SMS_RETRYABLE = frozenset({-2021, -2052})
# Kakao Bizmessage codes where a later retry can help (none of the documented validation errors).
KAKAO_RETRYABLE: frozenset[int] = frozenset()
SYSTEM_ERROR = -9999  # "시스템 오류(예기치 못한 오류)": we cannot tell whether it was taken
KAKAO_DUPLICATE_KEY = -1005


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def _kst(moment) -> str:
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S")


def _answered(data: Any) -> bool:
    return isinstance(data, dict) and as_dict(data.get("header")).get("isSuccessful") is True


def _split_provider_id(provider_message_id: str) -> tuple[str, str]:
    request_id, _, seq = provider_message_id.partition(":")
    return request_id, seq


def _recipient_number(e164: str) -> dict[str, str]:
    country, national = split_phone(e164)
    if country == "82":
        return {"recipientNo": national}
    return {"internationalRecipientNo": country + national}


class _NhnBase:
    name = "nhn"
    channels: frozenset[str] = frozenset()

    def __init__(
        self,
        app_key: str,
        secret_key: str,
        base_url: str,
        *,
        webhook_signature: str = "",
        timeout: float = 10.0,
        status_lookback: timedelta = timedelta(days=3),
    ) -> None:
        self.app_key = app_key
        self.secret_key = secret_key
        self.base_url = base_url.rstrip("/")
        self.webhook_signature = webhook_signature
        self.timeout = timeout
        self.status_lookback = status_lookback

    def _call(
        self, method: str, path: str, payload: Any = None, extra: dict[str, str] | None = None
    ) -> HttpReply:
        headers = {"X-Secret-Key": self.secret_key, **(extra or {})}
        return http_request(
            method, self.base_url + path, headers=headers, payload=payload, timeout=self.timeout
        )

    def _verify(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        if not self.webhook_signature:
            raise WebhookError("no webhook signature is configured; refusing unauthenticated data")
        given = _header(headers, SIGNATURE_HEADER)
        if not given or not hmac.compare_digest(
            given.encode("utf-8"), self.webhook_signature.encode("utf-8")
        ):
            raise WebhookError("wrong or missing X-Toast-Webhook-Signature")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WebhookError(f"not JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("hooks"), list):
            raise WebhookError("not an NHN webhook body")
        app_key = data.get("appKey")
        if app_key is not None and app_key != self.app_key:
            raise WebhookError("a webhook for another app key")
        if not isinstance(data.get("event"), str):
            raise WebhookError("a webhook without an event")
        return data

    def _status_window(self) -> tuple[Any, Any]:
        now = now_utc()
        return now - self.status_lookback, now + timedelta(minutes=10)


# --- SMS -----------------------------------------------------------------------------------


def sms_message_outcome(status: str, result_code: str) -> tuple[Outcome, bool]:
    """SMS search result: msgStatus (0 실패, 1 요청, 2 처리 중, 3 성공, 4 예약취소, 5 중복실패)."""
    if status == "3":
        if result_code in ("", "1000"):
            return Outcome.DELIVERED, False
        return Outcome.FAILED, False
    if status in ("0", "4", "5"):
        return Outcome.FAILED, False
    if status in ("1", "2"):
        return Outcome.ACCEPTED, False
    return Outcome.UNKNOWN, False


WEBHOOK_STATUS = {
    "COMPLETED": Outcome.DELIVERED,
    "FAILED": Outcome.FAILED,
    "FAILED_AD": Outcome.FAILED,
    "CANCEL": Outcome.FAILED,
    "DUPLICATED": Outcome.FAILED,
}


def _send_answer(
    reply: HttpReply,
    data: Any,
    where: tuple[str, ...],
    retryable: frozenset[int],
    *,
    kakao: bool = False,
) -> SendResult:
    """Shared reading of NHN's ``{header, <body>{requestId, <list>[...]}}`` send answers."""
    if data is NOT_JSON or not isinstance(data, dict):
        return garbage(reply)
    header = as_dict(data.get("header"))
    success = header.get("isSuccessful")
    code = _int(header.get("resultCode"))
    if success is not True:
        if success is not False or code is None:
            return garbage(reply, "answer without a result header")
        if code == SYSTEM_ERROR:
            return SendResult(
                Outcome.UNKNOWN,
                code=str(code),
                detail=str(header.get("resultMessage") or "system error"),
                raw=data,
            )
        if kakao and code == KAKAO_DUPLICATE_KEY:
            return SendResult(
                Outcome.UNKNOWN,
                code=str(code),
                detail="the idempotency key was used in the last 10 minutes: an earlier attempt "
                "reached NHN; settle it with status, do not resend",
                raw=data,
            )
        return SendResult(
            Outcome.FAILED,
            code=str(code),
            detail=str(header.get("resultMessage") or ""),
            retryable=code in retryable,
            raw=data,
        )
    container: Any = data
    for step in where[:-1]:
        container = as_dict(as_dict(container).get(step))
    request_id = str(as_dict(container).get("requestId") or "")
    results = as_list(as_dict(container).get(where[-1]))
    if not results or not request_id:
        return garbage(reply, "success without a request id or a recipient result")
    first = as_dict(results[0])
    result_code = _int(first.get("resultCode"))
    seq = first.get("recipientSeq")
    provider_id = f"{request_id}:{seq}" if seq is not None else request_id
    detail = str(first.get("resultMessage") or "")
    if result_code == 0:
        return SendResult(
            Outcome.ACCEPTED, provider_message_id=provider_id, detail=detail, raw=data
        )
    if result_code is None:
        return garbage(reply, "recipient result without a code")
    return SendResult(
        Outcome.FAILED,
        provider_message_id=provider_id,
        code=str(result_code),
        detail=detail,
        retryable=result_code in retryable,
        raw=data,
    )


class NhnSmsProvider(_NhnBase):
    name = "nhn_sms"
    channels = frozenset({Channel.SMS.value})

    def __init__(
        self,
        app_key: str,
        secret_key: str,
        base_url: str = "https://sms.api.nhncloudservice.com",
        **options: Any,
    ) -> None:
        super().__init__(app_key, secret_key, base_url, **options)

    def _root(self) -> str:
        return f"/sms/v3.0/appKeys/{urllib.parse.quote(self.app_key, safe='')}"

    def build(self, message: OutgoingMessage) -> tuple[str, dict[str, Any]]:
        """(path, body) for one message; raises ValueError when it must not be sent."""
        kind = message.message_type.upper()
        if kind not in ("SMS", "LMS", "MMS"):
            raise ValueError(f"NHN SMS does not send {message.message_type!r}")
        if message.kind == "ad":
            problem = ad_text_problem(message.body)
            if problem:
                raise ValueError(problem)
        key = short_key(message.idempotency_key)
        _, send_no = split_phone(message.sender)
        recipient = {**_recipient_number(message.to), "recipientGroupingKey": key}
        body: dict[str, Any] = {
            "body": message.body,
            "sendNo": send_no,
            "senderGroupingKey": key,
            "recipientList": [recipient],
        }
        if kind == "SMS":
            endpoint = "ad-sms" if message.kind == "ad" else "sms"
        else:
            endpoint = "ad-mms" if message.kind == "ad" else "mms"
            body["title"] = message.subject or message.body.splitlines()[0][:20]
        return f"{self._root()}/sender/{endpoint}", body

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            path, body = self.build(message)
        except (ValueError, IndexError) as exc:
            return refused("local_check", str(exc) or "empty body")
        reply = self._call("POST", path, body)
        decided = transport_outcome(reply)
        if decided is not None:
            return decided
        try:
            return _send_answer(
                reply, reply.json(), ("body", "data", "sendResultList"), SMS_RETRYABLE
            )
        except (TypeError, ValueError, AttributeError):
            return garbage(reply, "unexpected answer shape")

    def status(self, message: OutgoingMessage, provider_message_id: str = "") -> SendResult:
        kind = "sms" if message.message_type.upper() == "SMS" else "mms"
        request_id, seq = _split_provider_id(provider_message_id)
        if request_id and seq:
            path = (
                f"{self._root()}/sender/{kind}/{urllib.parse.quote(request_id, safe='')}"
                f"?{urllib.parse.urlencode({'recipientSeq': seq})}"
            )
        else:
            start, end = self._status_window()
            query = {
                "startCreateDate": _kst(start),
                "endCreateDate": _kst(end),
                "recipientGroupingKey": short_key(message.idempotency_key),
                "pageSize": "15",
            }
            if request_id:
                query = {"requestId": request_id, "pageSize": "15"}
            path = f"{self._root()}/sender/{kind}?{urllib.parse.urlencode(query)}"
        reply = self._call("GET", path)
        if reply.error or reply.status >= 400:
            return SendResult(
                Outcome.UNKNOWN,
                code=f"http_{reply.status}" if reply.status else "no_answer",
                detail=reply.error or "the status query failed",
            )
        data = reply.json()
        if not _answered(data):
            return garbage(reply, "the status query was not answered")
        found = as_dict(data.get("body")).get("data")
        rows = [found] if isinstance(found, dict) else as_list(found)
        key = short_key(message.idempotency_key)
        for row in rows:
            row = as_dict(row)
            if (seq and str(row.get("recipientSeq", row.get("mtPr", ""))) != seq) or (
                not seq and row.get("recipientGroupingKey") not in (key, None)
            ):
                continue
            status = str(row.get("msgStatus") or "")
            result_code = str(row.get("resultCode") or "")
            outcome, retryable = sms_message_outcome(status, result_code)
            row_seq = row.get("recipientSeq", row.get("mtPr"))
            return SendResult(
                outcome,
                provider_message_id=f"{row.get('requestId') or request_id}:{row_seq}",
                code=result_code or status,
                detail=str(row.get("resultCodeName") or row.get("msgStatusName") or ""),
                retryable=retryable,
                raw=row,
            )
        return SendResult(
            Outcome.FAILED,
            provider_message_id=provider_message_id,
            code="not_found",
            detail="NHN has no such message: it was never registered, sending again is safe",
            retryable=True,
        )

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str]
    ) -> list[DeliveryReport | OptOut]:
        """MESSAGE_RESULT_UPDATE → DeliveryReport, UNSUBSCRIBE → OptOut; other events → []."""
        data = self._verify(body, headers)
        event = data["event"]
        out: list[DeliveryReport | OptOut] = []
        for hook in data["hooks"]:
            if not isinstance(hook, dict):
                raise WebhookError("a hook is not an object")
            if event == "UNSUBSCRIBE":
                number = str(hook.get("recipientNo") or "")
                if not number:
                    raise WebhookError("an opt-out without a number")
                out.append(OptOut(phone=kr_to_e164(number), at=str(hook.get("createdDateTime"))))
            elif event == "MESSAGE_RESULT_UPDATE":
                request_id = str(hook.get("requestId") or "")
                status = str(hook.get("messageStatus") or "")
                if not request_id or not status:
                    raise WebhookError("a result without requestId or messageStatus")
                out.append(
                    DeliveryReport(
                        provider_message_id=f"{request_id}:{hook.get('recipientSeq')}",
                        # NHN's own example spells it "recipientGropuingKey"; accept both.
                        idempotency_key=str(
                            hook.get("recipientGroupingKey")
                            or hook.get("recipientGropuingKey")
                            or ""
                        ),
                        outcome=WEBHOOK_STATUS.get(status, Outcome.UNKNOWN),
                        code=str(hook.get("resultCode") or status),
                        detail=status,
                    )
                )
        return out


# --- KakaoTalk Bizmessage ------------------------------------------------------------------


def kakao_message_outcome(row: dict[str, Any]) -> tuple[Outcome, str]:
    """AlimTalk/Brand search result → (outcome, code), taking the SMS fallback into account."""
    status = str(row.get("messageStatus") or "")
    resend = str(row.get("resendStatus") or "")
    code = str(row.get("resultCode") or status)
    if status == "COMPLETED":
        return Outcome.DELIVERED, code
    if status == "FAILED":
        if resend == "RSC04":  # 대체 발송 성공
            return Outcome.DELIVERED, resend
        if resend in ("RSC02", "RSC03"):  # fallback pending / in progress
            return Outcome.ACCEPTED, resend
        return Outcome.FAILED, code
    if status == "CANCEL":
        return Outcome.FAILED, code
    if status:
        return Outcome.ACCEPTED, code
    return Outcome.UNKNOWN, code


class _KakaoBase(_NhnBase):
    product_path = ""  # "/alimtalk/v2.3" or "/brand-message/v1.0"
    send_suffix = ""

    def __init__(
        self,
        app_key: str,
        secret_key: str,
        sender_key: str,
        base_url: str = "https://kakaotalk-bizmessage.api.nhncloudservice.com",
        *,
        resend_send_no: str = "",
        **options: Any,
    ) -> None:
        super().__init__(app_key, secret_key, base_url, **options)
        self.sender_key = sender_key
        self.resend_send_no = resend_send_no

    def _root(self) -> str:
        return f"{self.product_path}/appkeys/{urllib.parse.quote(self.app_key, safe='')}"

    def _resend(self, message: OutgoingMessage) -> dict[str, Any]:
        if not message.fallback_body:
            return {"isResend": False}
        long = bool(message.fallback_subject) or cp949_len(message.fallback_body) > 90
        resend: dict[str, Any] = {
            "isResend": True,
            "resendType": "LMS" if long else "SMS",
            "resendContent": message.fallback_body,
            "resendSendNo": split_phone(self.resend_send_no or message.sender)[1],
        }
        if long and message.fallback_subject:
            resend["resendTitle"] = message.fallback_subject
        return resend

    def _check(self, message: OutgoingMessage) -> None:
        if message.kind == "ad" and message.fallback_body:
            problem = ad_text_problem(message.fallback_body)
            if problem:
                raise ValueError(f"ad fallback text: {problem}")

    def build(self, message: OutgoingMessage) -> dict[str, Any]:
        raise NotImplementedError

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            self._check(message)
            body = self.build(message)
        except ValueError as exc:
            return refused("local_check", str(exc))
        reply = self._call(
            "POST",
            f"{self._root()}/{self.send_suffix}",
            body,
            {IDEMPOTENCY_HEADER: short_key(message.idempotency_key)},
        )
        decided = transport_outcome(reply)
        if decided is not None:
            return decided
        try:
            return _send_answer(
                reply, reply.json(), ("message", "sendResults"), KAKAO_RETRYABLE, kakao=True
            )
        except (TypeError, ValueError, AttributeError):
            return garbage(reply, "unexpected answer shape")

    def status(self, message: OutgoingMessage, provider_message_id: str = "") -> SendResult:
        request_id, seq = _split_provider_id(provider_message_id)
        root = self._root()
        if request_id and seq:
            path = (
                f"{root}/messages/{urllib.parse.quote(request_id, safe='')}/"
                f"{urllib.parse.quote(seq, safe='')}"
            )
        else:
            start, end = self._status_window()
            query = {
                "startCreateDate": start.astimezone(KST).strftime("%Y-%m-%d %H:%M"),
                "endCreateDate": end.astimezone(KST).strftime("%Y-%m-%d %H:%M"),
                "recipientGroupingKey": short_key(message.idempotency_key),
                "pageSize": "15",
            }
            if request_id:
                query = {"requestId": request_id, "pageSize": "15"}
            path = f"{root}/messages?{urllib.parse.urlencode(query)}"
        reply = self._call("GET", path)
        if reply.error or reply.status >= 400:
            return SendResult(
                Outcome.UNKNOWN,
                code=f"http_{reply.status}" if reply.status else "no_answer",
                detail=reply.error or "the status query failed",
            )
        data = reply.json()
        if not _answered(data):
            return garbage(reply, "the status query was not answered")
        if isinstance(data.get("message"), dict):
            rows = [data["message"]]
        else:
            rows = as_list(as_dict(data.get("messageSearchResultResponse")).get("messages"))
        for row in rows:
            row = as_dict(row)
            outcome, code = kakao_message_outcome(row)
            return SendResult(
                outcome,
                provider_message_id=f"{row.get('requestId') or request_id}:"
                f"{row.get('recipientSeq', seq)}",
                code=code,
                detail=str(row.get("resultCodeName") or row.get("resendStatusName") or ""),
                raw=row,
            )
        return SendResult(
            Outcome.FAILED,
            provider_message_id=provider_message_id,
            code="not_found",
            detail="NHN has no such message: it was never registered, sending again is safe",
            retryable=True,
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[DeliveryReport]:
        """MESSAGE_RESULT_UPDATE → DeliveryReport (resultCode 1000 = delivered); others → []."""
        data = self._verify(body, headers)
        if data["event"] != "MESSAGE_RESULT_UPDATE":
            return []
        out = []
        for hook in data["hooks"]:
            if not isinstance(hook, dict):
                raise WebhookError("a hook is not an object")
            request_id = str(hook.get("requestId") or "")
            code = str(hook.get("resultCode") or "")
            if not request_id or not code:
                raise WebhookError("a result without requestId or resultCode")
            out.append(
                DeliveryReport(
                    provider_message_id=f"{request_id}:{hook.get('recipientSeq')}",
                    idempotency_key=str(hook.get("recipientGroupingKey") or ""),
                    outcome=Outcome.DELIVERED if code in ("1000", "MRC01") else Outcome.FAILED,
                    code=code,
                    detail=str(hook.get("kakaoMessageType") or ""),
                )
            )
        return out


class NhnAlimtalkProvider(_KakaoBase):
    """AlimTalk (information only, approved templates): ``POST /alimtalk/v2.3/…/messages``."""

    name = "nhn_alimtalk"
    channels = frozenset({Channel.ALIMTALK.value})
    product_path = "/alimtalk/v2.3"
    send_suffix = "messages"

    def _check(self, message: OutgoingMessage) -> None:
        if message.kind == "ad":
            raise ValueError("AlimTalk carries information only; an ad cannot be sent with it")
        if not message.template_code:
            raise ValueError("AlimTalk needs an approved template code")
        super()._check(message)

    def build(self, message: OutgoingMessage) -> dict[str, Any]:
        key = short_key(message.idempotency_key)
        recipient = {
            "recipientNo": _kakao_number(message.to),
            "templateParameter": {_plain(k): v for k, v in message.variables.items()},
            "resendParameter": self._resend(message),
            "recipientGroupingKey": key,
        }
        return {
            "senderKey": self.sender_key,
            "templateCode": message.template_code,
            "senderGroupingKey": key,
            "recipientList": [recipient],
        }


class NhnBrandMessageProvider(_KakaoBase):
    """Brand Message (ads to channel friends): ``POST /brand-message/v1.0/…/freestyle-messages``.

    Targeting defaults to ``I`` (the request list ∩ channel friends), the only one a small shop
    can use (M/N need 50,000 friends and more; compliance-kr §3.2)."""

    name = "nhn_brand"
    channels = frozenset({Channel.BRAND.value})
    product_path = "/brand-message/v1.0"
    send_suffix = "freestyle-messages"

    def __init__(
        self,
        app_key: str,
        secret_key: str,
        sender_key: str,
        base_url: str = "https://kakaotalk-bizmessage.api.nhncloudservice.com",
        *,
        targeting: str = "I",
        unsubscribe_no: str = "",
        unsubscribe_auth_no: str = "",
        **options: Any,
    ) -> None:
        if targeting not in ("I", "M", "N"):
            raise ValueError("targeting must be I, M or N")
        super().__init__(app_key, secret_key, sender_key, base_url, **options)
        self.targeting = targeting
        self.unsubscribe_no = unsubscribe_no
        self.unsubscribe_auth_no = unsubscribe_auth_no

    def build(self, message: OutgoingMessage) -> dict[str, Any]:
        if not message.body.strip():
            raise ValueError("a Brand Message needs content")
        key = short_key(message.idempotency_key)
        resend = self._resend(message)
        if resend["isResend"] and self.unsubscribe_no:
            resend["resendUnsubscribeNo"] = self.unsubscribe_no
        recipient = {
            "recipientNo": _kakao_number(message.to),
            "targeting": self.targeting,
            "resendParameter": resend,
            "recipientGroupingKey": key,
        }
        body: dict[str, Any] = {
            "senderKey": self.sender_key,
            "chatBubbleType": "TEXT",
            "adult": False,
            "content": message.body,
            "senderGroupingKey": key,
            "recipientList": [recipient],
        }
        if self.unsubscribe_no:
            body["unsubscribeNo"] = self.unsubscribe_no
            if self.unsubscribe_auth_no:
                body["unsubscribeAuthNo"] = self.unsubscribe_auth_no
        return body


def _plain(name: str) -> str:
    """NHN wants the bare variable name as the key (``#{이름}`` in the template → ``이름``)."""
    return name[2:-1] if name.startswith("#{") and name.endswith("}") else name


def _kakao_number(e164: str) -> str:
    country, national = split_phone(e164)
    return national if country == "82" else country + national
