"""A local stand-in for a provider's HTTP API.

It records every request, runs a contract check written from the provider's documentation
(method, path, headers, JSON shape) and answers with whatever the test scripted: a documented
answer, an HTTP error, a truncated or garbage body, or no answer before the client gives up.
A request that breaks the contract is answered 400 and listed in ``violations``, so every test
ends by asserting that list is empty.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def q(self, name: str) -> str:
        values = self.query.get(name) or [""]
        return values[0]


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict/list → JSON; bytes → as is
    delay: float = 0.0
    truncate: bool = False  # promise more bytes than sent, then hang up

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


Check = Callable[[Seen], list[str]]
Responder = Callable[[Seen], Answer]


@dataclass
class FakeApi:
    check: Check
    responder: Responder = field(default=lambda seen: Answer(404, {"error": "no script"}))
    requests: list[Seen] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, seen: Seen) -> Answer:
        problems = self.check(seen)
        with self._lock:
            self.requests.append(seen)
            self.violations.extend(f"{seen.method} {seen.path}: {p}" for p in problems)
        if problems:
            return Answer(400, {"contract": problems})
        return self.responder(seen)

    def reply(self, answer: Answer | Responder) -> None:
        self.responder = answer if callable(answer) else (lambda seen: answer)


def _handler_for(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urllib.parse.urlsplit(self.path)
            seen = Seen(
                method=self.command,
                path=parts.path,
                query=urllib.parse.parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            answer = api.answer(seen)
            if answer.delay:
                time.sleep(answer.delay)
            payload = answer.payload()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                promised = len(payload) + (200 if answer.truncate else 0)
                self.send_header("Content-Length", str(promised))
                self.end_headers()
                if answer.truncate:
                    self.wfile.write(payload[: max(1, len(payload) // 2)])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up first (timeout tests)

        do_GET = _serve
        do_POST = _serve
        do_DELETE = _serve

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def start(api: FakeApi) -> tuple[FakeApi, Callable[[], None]]:
    server = _Server(("127.0.0.1", 0), _handler_for(api))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    api.url = f"http://{host}:{port}"

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return api, stop


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
