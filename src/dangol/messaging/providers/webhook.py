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

import http.client
import json
import ssl
import threading
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
        parts = urllib.parse.urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        # A proxy from the environment is honoured the way urllib honours it (one connection
        # per request); otherwise one kept-alive connection per thread.
        proxies = urllib.request.getproxies()
        self._direct = parts.scheme not in proxies or bool(
            urllib.request.proxy_bypass(parts.netloc)
        )
        self._local = threading.local()
        self._context: ssl.SSLContext | None = None

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if self._https:
                if self._context is None:  # building one reads the CA store: once, not per call
                    self._context = ssl.create_default_context()
                connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.timeout, context=self._context
                )
            else:
                connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self.timeout
                )
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def _exchange(self, method: str, path: str, data: bytes | None) -> tuple[int, bytes]:
        headers = {"X-Dangol-Secret": self.secret}
        if data is not None:
            headers["Content-Type"] = "application/json"
        # A kept-alive connection the gateway has since closed fails before any answer; that
        # request is made once more on a new connection. The contract makes a repeated key
        # the same message, so even a request that did arrive cannot go out twice.
        for attempt in (1, 2):
            connection = self._connection()
            reused = connection.sock is not None
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._drop()
                if reused and attempt == 1:
                    continue
                raise
            except (OSError, http.client.HTTPException):
                self._drop()
                raise
            if response.will_close:
                self._drop()
            return response.status, body
        raise AssertionError("unreachable")

    def _request(self, request: urllib.request.Request) -> tuple[int, dict]:
        if self._direct:
            target = urllib.parse.urlsplit(request.full_url)
            path = (target.path or "/") + (f"?{target.query}" if target.query else "")
            try:
                status, raw = self._exchange(request.get_method(), path, request.data)
            except http.client.HTTPException as exc:
                raise OSError(f"{type(exc).__name__}: {exc}") from exc
            if status < 400:
                return status, json.loads(raw or b"{}")
            try:
                return status, json.loads(raw or b"{}")
            except ValueError:
                return status, {}
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
