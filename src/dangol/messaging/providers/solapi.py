"""Solapi (CoolSMS) v4: SMS/LMS/MMS, AlimTalk (ATA) and Brand Message (BMS_FREE).

Wire format (compliance-kr §3.5; the solapi-python SDK and the solapi/documents pages):

- auth: ``Authorization: HMAC-SHA256 ApiKey=<key>, Date=<ISO-8601>, salt=<random>,
  signature=<hex HMAC-SHA256(secret, Date + salt)>``, a fresh salt on every request (Solapi
  refuses a signature seen in the last 15 minutes and a Date more than 15 minutes off);
- send: ``POST /messages/v4/send-many/detail`` with exactly one message, whose
  ``customFields.idempotencyKey`` carries our key so that ``status`` and the webhook can find it;
- status: ``GET /messages/v4/list`` with ``criteria/cond/value`` (by messageId when known,
  otherwise by to + from over a recent window, matched on the custom field).

Solapi has no idempotency key of its own (``allowDuplicates`` only covers one request), so an
UNKNOWN send must be settled through ``status`` before anything is sent again.

Webhooks: Solapi signs nothing. ``parse_webhook`` therefore insists on a shared secret that we
choose and put into the webhook URL we register with Solapi (as a query token, passed in by the
view) or into a header (``X-Dangol-Webhook-Token``) when a proxy can add one. Without a
configured secret every webhook is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.parse
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ._common import (
    NOT_JSON,
    as_dict,
    as_list,
    garbage,
    http_request,
    now_utc,
    refused,
    short_key,
    split_phone,
    transport_outcome,
)
from .base import Channel, DeliveryReport, Outcome, OutgoingMessage, SendResult, WebhookError

SEND_PATH = "/messages/v4/send-many/detail"
LIST_PATH = "/messages/v4/list"
CUSTOM_FIELD = "idempotencyKey"  # field names ≤ 30 characters, values ≤ 100 (status 1032)
WEBHOOK_TOKEN_HEADER = "X-Dangol-Webhook-Token"  # noqa: S105 (a header name)

# Intake failures (1xxx/2xxx) where trying again later can help: the provider's own server
# error and an empty balance. Everything else at intake is about the message itself.
RETRYABLE_CODES = frozenset({"1024", "2024", "1030", "2230"})
# HTTP-level errorCodes that reject the request before any message exists.
RETRYABLE_ERRORS = frozenset(
    {"RequestTimeTooSkewed", "DuplicatedSignature", "TooManyRequests", "InternalError"}
)


def sign(api_secret: str, date: str, salt: str) -> str:
    return hmac.new(api_secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()


def status_outcome(code: str) -> tuple[Outcome, bool]:
    """Solapi's four-digit status code → (outcome, retryable)."""
    if code == "4000":
        return Outcome.DELIVERED, False
    if code in ("2000", "3000"):
        return Outcome.ACCEPTED, False
    if len(code) == 4 and code.isdigit() and code[0] in "123":
        return Outcome.FAILED, code in RETRYABLE_CODES
    return Outcome.UNKNOWN, False


class SolapiProvider:
    name = "solapi"
    channels = frozenset({Channel.SMS.value, Channel.ALIMTALK.value, Channel.BRAND.value})

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        base_url: str = "https://api.solapi.com",
        *,
        pf_id: str = "",
        brand_targeting: str = "I",
        webhook_secret: str = "",
        timeout: float = 10.0,
        status_lookback: timedelta = timedelta(days=3),
    ) -> None:
        if brand_targeting not in ("I", "M", "N"):
            raise ValueError("brand_targeting must be I, M or N")
        self.api_key = api_key
        self.api_secret = api_secret
        self.base_url = base_url.rstrip("/")
        self.pf_id = pf_id
        self.brand_targeting = brand_targeting
        self.webhook_secret = webhook_secret
        self.timeout = timeout
        self.status_lookback = status_lookback

    # --- auth ------------------------------------------------------------------------------

    def authorization(self) -> str:
        date = now_utc().strftime("%Y-%m-%dT%H:%M:%SZ")
        salt = secrets.token_hex(16)
        signature = sign(self.api_secret, date, salt)
        return f"HMAC-SHA256 ApiKey={self.api_key}, Date={date}, salt={salt}, signature={signature}"

    def _call(self, method: str, path: str, payload: Any = None):
        return http_request(
            method,
            self.base_url + path,
            headers={"Authorization": self.authorization()},
            payload=payload,
            timeout=self.timeout,
        )

    # --- sending ---------------------------------------------------------------------------

    def build(self, message: OutgoingMessage) -> dict[str, Any]:
        """The one Solapi message for ``message`` (raises ValueError when it cannot be built)."""
        country, to = split_phone(message.to)
        _, sender = split_phone(message.sender)
        item: dict[str, Any] = {
            "to": to,
            "from": sender,
            "text": message.body,
            "customFields": {CUSTOM_FIELD: short_key(message.idempotency_key)},
        }
        if country != "82":
            item["country"] = country
        kind = message.message_type.upper()
        if message.channel == Channel.SMS.value or kind in ("SMS", "LMS", "MMS"):
            if kind not in ("SMS", "LMS", "MMS"):
                raise ValueError(f"unknown SMS type {message.message_type!r}")
            item["type"] = kind
            if kind != "SMS" and message.subject:
                item["subject"] = message.subject
        elif message.channel == Channel.ALIMTALK.value:
            if not (self.pf_id and message.template_code):
                raise ValueError("AlimTalk needs the channel's pfId and an approved template")
            item["type"] = "ATA"
            item["kakaoOptions"] = {
                "pfId": self.pf_id,
                "templateId": message.template_code,
                "variables": {_variable(k): v for k, v in message.variables.items()},
                "disableSms": not message.fallback_body,
            }
        elif message.channel == Channel.BRAND.value:
            if not self.pf_id:
                raise ValueError("a Brand Message needs the channel's pfId")
            item["type"] = "BMS_FREE"
            item["kakaoOptions"] = {
                "pfId": self.pf_id,
                "disableSms": not message.fallback_body,
                "bms": {"targeting": self.brand_targeting, "chatBubbleType": "TEXT"},
            }
            if message.template_code:
                item["kakaoOptions"]["templateId"] = message.template_code
        else:
            raise ValueError(f"Solapi does not send {message.channel!r}")
        return item

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            item = self.build(message)
        except ValueError as exc:
            return refused("local_check", str(exc))
        reply = self._call("POST", SEND_PATH, {"messages": [item]})
        decided = transport_outcome(reply)
        if decided is not None:
            return decided
        data = reply.json()
        if data is NOT_JSON or not isinstance(data, dict):
            return garbage(reply)
        try:
            return self._send_result(reply.status, data)
        except (TypeError, ValueError, AttributeError):
            return garbage(reply, "unexpected answer shape")

    def _send_result(self, status: int, data: dict[str, Any]) -> SendResult:
        accepted = as_list(data.get("messageList"))
        failed = as_list(data.get("failedMessageList"))
        if failed:
            first = as_dict(failed[0])
            code = str(first.get("statusCode", ""))
            outcome, retryable = status_outcome(code)
            if outcome is not Outcome.FAILED:
                outcome, retryable = Outcome.FAILED, False
            return SendResult(
                outcome,
                provider_message_id=str(first.get("messageId") or ""),
                code=code,
                detail=str(first.get("statusMessage") or ""),
                retryable=retryable,
                raw=data,
            )
        if accepted:
            first = as_dict(accepted[0])
            code = str(first.get("statusCode", ""))
            message_id = str(first.get("messageId") or "")
            if code == "2000" and message_id:
                return SendResult(
                    Outcome.ACCEPTED,
                    provider_message_id=message_id,
                    code=code,
                    detail=str(first.get("statusMessage") or ""),
                    raw=data,
                )
            outcome, retryable = status_outcome(code)
            return SendResult(
                outcome if message_id else Outcome.UNKNOWN,
                provider_message_id=message_id,
                code=code,
                detail=str(first.get("statusMessage") or ""),
                retryable=retryable,
                raw=data,
            )
        if 400 <= status < 500:
            error = str(data.get("errorCode") or f"http_{status}")
            return SendResult(
                Outcome.FAILED,
                code=error,
                detail=str(data.get("errorMessage") or ""),
                retryable=error in RETRYABLE_ERRORS,
                raw=data,
            )
        return SendResult(
            Outcome.UNKNOWN, code=f"http_{status}", detail="no message in the answer", raw=data
        )

    # --- status ----------------------------------------------------------------------------

    def status(self, message: OutgoingMessage, provider_message_id: str = "") -> SendResult:
        key = short_key(message.idempotency_key)
        if provider_message_id:
            query = {
                "criteria": "messageId",
                "cond": "eq",
                "value": provider_message_id,
                "limit": "1",
            }
        else:
            try:
                _, to = split_phone(message.to)
                _, sender = split_phone(message.sender)
            except ValueError as exc:
                return refused("local_check", str(exc))
            query = {
                "criteria": "to,from",
                "cond": "eq,eq",
                "value": f"{to},{sender}",
                "limit": "100",
                "dateType": "CREATED",
                "startDate": (now_utc() - self.status_lookback).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        for _page in range(5):
            reply = self._call("GET", LIST_PATH + "?" + urllib.parse.urlencode(query))
            if reply.error or reply.status >= 400:
                return SendResult(
                    Outcome.UNKNOWN,
                    code=f"http_{reply.status}" if reply.status else "no_answer",
                    detail=reply.error or "the status query failed",
                )
            data = reply.json()
            if not isinstance(data, dict):
                return garbage(reply)
            for found in as_dict(data.get("messageList")).values():
                found = as_dict(found)
                same_id = provider_message_id and found.get("messageId") == provider_message_id
                same_key = as_dict(found.get("customFields")).get(CUSTOM_FIELD) == key
                if same_id or same_key:
                    code = str(found.get("statusCode", ""))
                    outcome, retryable = status_outcome(code)
                    return SendResult(
                        outcome,
                        provider_message_id=str(found.get("messageId") or provider_message_id),
                        code=code,
                        detail=str(found.get("statusMessage") or found.get("reason") or ""),
                        retryable=retryable,
                        raw=found,
                    )
            next_key = data.get("nextKey")
            if provider_message_id or not next_key:
                break
            query["startKey"] = str(next_key)
        return SendResult(
            Outcome.FAILED,
            provider_message_id=provider_message_id,
            code="not_found",
            detail="Solapi has no such message: it was never registered, sending again is safe",
            retryable=True,
        )

    # --- webhook ---------------------------------------------------------------------------

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], *, token: str = ""
    ) -> list[DeliveryReport]:
        """Delivery reports from a Solapi single-report webhook (a JSON list).

        ``token`` is the secret taken from the webhook URL by the view, if that is how it is
        carried; otherwise the ``X-Dangol-Webhook-Token`` header must hold it."""
        if not self.webhook_secret:
            raise WebhookError("no webhook secret is configured; refusing unauthenticated data")
        given = token or _header(headers, WEBHOOK_TOKEN_HEADER)
        if not given or not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            raise WebhookError("wrong or missing webhook token")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WebhookError(f"not JSON: {exc}") from exc
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise WebhookError("expected a list of reports")
        reports = []
        for entry in data:
            if not isinstance(entry, dict):
                raise WebhookError("a report is not an object")
            report = as_dict(entry.get("data")) if "data" in entry else entry
            message_id = str(report.get("messageId") or "")
            code = str(report.get("statusCode") or "")
            if not message_id or not code:
                raise WebhookError("a report without messageId or statusCode")
            outcome, _ = status_outcome(code)
            reports.append(
                DeliveryReport(
                    provider_message_id=message_id,
                    idempotency_key=str(
                        as_dict(report.get("customFields")).get(CUSTOM_FIELD) or ""
                    ),
                    outcome=outcome,
                    code=code,
                    detail=str(report.get("statusMessage") or ""),
                )
            )
        return reports


def _variable(name: str) -> str:
    return name if name.startswith("#{") else "#{" + name + "}"


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""
