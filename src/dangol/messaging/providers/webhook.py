"""A generic HTTP provider: POST each message as JSON to the shop's own gateway.

For self-hosters who bridge to a gateway of their own (or an automation tool). The contract is
ours, so it is written down here and a gateway can implement it in a page of code:

- ``POST {url}`` with JSON ``{idempotency_key, channel, message_type, kind, to, sender, subject,
  body}`` and the header ``X-Dangol-Secret: <secret>``. The gateway must treat a repeated
  ``idempotency_key`` as the same message (answer with the first result, do not send again).
  Answer 200/201/202 with ``{"id": "...", "status": "accepted"|"delivered"}``; 4xx with
  ``{"error": "...", "retryable": false}`` to refuse; 429 or 5xx to say "try later".
- ``GET {url}/{idempotency_key}`` with the same header: 200 and ``{"id", "status"}`` if the
  gateway has the message (status accepted, delivered or failed), 404 if it never got it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict

from dangol.messaging.providers.base import Outcome, OutgoingMessage, SendResult

_FIELDS = ("idempotency_key", "channel", "message_type", "kind", "to", "sender", "subject", "body")
_OUTCOMES = {"accepted": Outcome.ACCEPTED, "delivered": Outcome.DELIVERED, "failed": Outcome.FAILED}


class WebhookProvider:
    name = "webhook"
    channels = frozenset({"sms", "alimtalk", "brand", "email", "push"})

    def __init__(self, *, url: str, secret: str, timeout: float = 10.0):
        if not url.startswith(("http://", "https://")):
            raise ValueError("webhook url must be http(s)")
        self.url = url.rstrip("/")
        self.secret = secret
        self.timeout = timeout

    def _request(self, request: urllib.request.Request) -> tuple[int, dict]:
        request.add_header("X-Dangol-Secret", self.secret)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.loads(error.read() or b"{}")
            except ValueError:
                return error.code, {}

    def send(self, message: OutgoingMessage) -> SendResult:
        payload = {k: v for k, v in asdict(message).items() if k in _FIELDS}
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self.url,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            status, body = self._request(request)
        except (OSError, ValueError) as exc:  # timeout, reset, garbage: it may have gone
            return SendResult(Outcome.UNKNOWN, detail=f"{type(exc).__name__}: {exc}"[:200])
        if status in (200, 201, 202) and isinstance(body, dict):
            outcome = _OUTCOMES.get(body.get("status"), Outcome.UNKNOWN)
            return SendResult(outcome, provider_message_id=str(body.get("id", "")), raw=body)
        if status == 429 or status >= 500:
            return SendResult(Outcome.FAILED, code=str(status), retryable=True)
        if 400 <= status < 500:
            error = body.get("error", "") if isinstance(body, dict) else ""
            retry = bool(body.get("retryable")) if isinstance(body, dict) else False
            return SendResult(Outcome.FAILED, code=str(status), detail=str(error), retryable=retry)
        return SendResult(Outcome.UNKNOWN, code=str(status))

    def status(self, message: OutgoingMessage, provider_message_id: str = "") -> SendResult:
        key = urllib.parse.quote(message.idempotency_key, safe="")
        try:
            lookup = urllib.request.Request(f"{self.url}/{key}")  # noqa: S310 (http(s) only)
            status, body = self._request(lookup)
        except (OSError, ValueError) as exc:
            return SendResult(Outcome.UNKNOWN, detail=f"{type(exc).__name__}: {exc}"[:200])
        if status == 404:
            # The gateway never got it: sending it now cannot make a duplicate.
            return SendResult(Outcome.FAILED, code="not_found", retryable=True)
        if status == 200 and isinstance(body, dict):
            outcome = _OUTCOMES.get(body.get("status"), Outcome.UNKNOWN)
            return SendResult(outcome, provider_message_id=str(body.get("id", "")), raw=body)
        return SendResult(Outcome.UNKNOWN, code=str(status))
