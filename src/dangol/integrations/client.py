"""The HTTP client of webhook deliveries: one POST with a timeout on every socket operation,
kept-alive connections per receiver host and thread (as the message gateway provider does),
and an answer that never raises.

Redirects are not followed: a receiver that moved answers 3xx and the delivery fails with
that status, so a URL cannot be bounced somewhere the owner never entered.
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass

MAX_ANSWER_BYTES = 64_000


@dataclass(frozen=True)
class Answer:
    status: int | None = None  # None: no HTTP answer (timeout, refused, reset)
    retry_after: str = ""
    error: str = ""
    duration_ms: int = 0
    timed_out: bool = False


class WebhookClient:
    def __init__(self, *, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._local = threading.local()
        self._context: ssl.SSLContext | None = None

    def _connections(self) -> dict[tuple[str, str, int | None], http.client.HTTPConnection]:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        return pool

    def _connection(self, scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
        pool = self._connections()
        key = (scheme, host, port)
        connection = pool.get(key)
        if connection is None:
            if scheme == "https":
                if self._context is None:  # reading the CA store once, not per request
                    self._context = ssl.create_default_context()
                connection = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=self._context
                )
            else:
                connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
            pool[key] = connection
        return connection

    def _drop(self, key: tuple[str, str, int | None]) -> None:
        connection = self._connections().pop(key, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for key in list(self._connections()):
            self._drop(key)

    def post(self, *, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return Answer(error="not an http(s) URL")
        key = (parts.scheme, parts.hostname, parts.port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        all_headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Dangol-Webhooks/1",
            **headers,
        }
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        # A kept-alive connection the receiver has since closed fails before any answer: that
        # request is made once more on a new connection. Receivers de-duplicate by the
        # Dangol-Delivery header, so even a request that did arrive is harmless twice.
        for attempt in (1, 2):
            connection = self._connection(*key)
            reused = connection.sock is not None
            try:
                connection.request("POST", target, body=body, headers=all_headers)
                response = connection.getresponse()
                response.read(MAX_ANSWER_BYTES)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop(key)
                if reused and attempt == 1:
                    continue
                return Answer(error=_describe(exc), duration_ms=took())
            except TimeoutError as exc:
                self._drop(key)
                return Answer(error=_describe(exc) or "timeout", duration_ms=took(), timed_out=True)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self._drop(key)
                return Answer(error=_describe(exc), duration_ms=took())
            if response.will_close or response.length:
                self._drop(key)  # unread rest or a closing receiver: start afresh next time
            return Answer(
                status=response.status,
                retry_after=response.getheader("Retry-After", "") or "",
                duration_ms=took(),
            )
        raise AssertionError("unreachable")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
