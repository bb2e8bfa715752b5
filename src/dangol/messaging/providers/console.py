"""The demo provider: nothing leaves the machine.

Every message is kept in memory (``sent``) and, when a path is given, appended to it as one
JSON line, so a demo or a developer can see exactly what would have gone out. The answer is
DELIVERED at once. A second send with the same idempotency key is answered from the record and
not written again, as a provider with real idempotency would.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path

from ._common import now_utc
from .base import Channel, Outcome, OutgoingMessage, SendResult


class ConsoleProvider:
    name = "console"
    channels = frozenset(channel.value for channel in Channel)

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self.sent: list[OutgoingMessage] = []
        self._by_key: dict[str, OutgoingMessage] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _provider_id(message: OutgoingMessage) -> str:
        return f"console:{message.idempotency_key}"

    def send(self, message: OutgoingMessage) -> SendResult:
        with self._lock:
            if message.idempotency_key in self._by_key:
                return SendResult(
                    Outcome.DELIVERED,
                    provider_message_id=self._provider_id(message),
                    code="duplicate",
                    detail="already recorded under this idempotency key",
                )
            if self.path is not None:
                line = {"at": now_utc().isoformat(), **asdict(message)}
                try:
                    with self.path.open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                except OSError as exc:
                    return SendResult(
                        Outcome.FAILED, code="write_error", detail=str(exc), retryable=True
                    )
            self.sent.append(message)
            self._by_key[message.idempotency_key] = message
        return SendResult(Outcome.DELIVERED, provider_message_id=self._provider_id(message))

    def status(self, message: OutgoingMessage, provider_message_id: str = "") -> SendResult:
        with self._lock:
            known = message.idempotency_key in self._by_key
        if not known and self.path is not None and self.path.exists():
            key = message.idempotency_key
            with self.path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        if json.loads(line).get("idempotency_key") == key:
                            known = True
                            break
                    except ValueError:
                        continue
        if known:
            return SendResult(Outcome.DELIVERED, provider_message_id=self._provider_id(message))
        return SendResult(
            Outcome.FAILED,
            code="not_found",
            detail="never recorded: nothing was sent, sending again is safe",
            retryable=True,
        )
