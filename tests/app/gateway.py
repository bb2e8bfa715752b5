"""A local HTTP gateway that stands in for a sending provider, speaking the webhook provider's
contract: it counts every POST per idempotency key and answers status queries."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

SECRET = "gateway-secret"


class Gateway:
    def __init__(self) -> None:
        self.posts: Counter[str] = Counter()
        self.messages: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.refuse_secret = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                if self.headers.get("X-Dangol-Secret") != SECRET:
                    with gateway.lock:
                        gateway.refuse_secret += 1
                    return self._reply(401, {"error": "bad secret"})
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length))
                key = payload["idempotency_key"]
                with gateway.lock:
                    gateway.posts[key] += 1
                    # A repeated key is the same message: answer as the first time.
                    gateway.messages.setdefault(key, payload)
                return self._reply(202, {"id": f"gw-{key}", "status": "accepted"})

            def do_GET(self):
                key = unquote(self.path.rsplit("/", 1)[-1])
                with gateway.lock:
                    known = key in gateway.messages
                if not known:
                    return self._reply(404, {"error": "not found"})
                return self._reply(200, {"id": f"gw-{key}", "status": "delivered"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
