"""What the SMTP provider itself knows about each message, kept outside the database.

SMTP has no status API, and the dispatcher records the server's answers a wave at a time. A
dispatcher killed mid-wave would leave every message of the wave "unknown" for good, although
most had their 250 and the rest never reached the server. The journal settles them: one line
per step, appended (one ``write`` on an ``O_APPEND`` file, which survives the process being
killed) at the moments that decide the outcome:

- ``B`` just before the message text and its final dot go to the server: from here on the
  server may have accepted it;
- ``D`` after a 2xx reply to the end of DATA, ``T`` after a 4xx, ``P`` after a 5xx.

Asked about a message, the journal answers: ``D`` → delivered; ``T``/``P`` → refused (retry
or not); no ``B`` → the text never left, so sending it now sends it once; ``B`` alone → truly
unknown (the server may have sent its 250 as the worker died), which only a person can settle.

The journal speaks for the dispatchers that write to it: workers sending e-mail for one
database must share one data directory.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from .base import Outcome, SendResult

BEGUN, DELIVERED, TEMPORARY, PERMANENT = "B", "D", "T", "P"


def _digest(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]


class SmtpJournal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lock = threading.Lock()
        self._states: dict[str, str] = {}
        self._read_to = 0

    def note(self, idempotency_key: str, step: str) -> None:
        os.write(self._fd, f"{step} {_digest(idempotency_key)}\n".encode("ascii"))

    def _refresh(self) -> None:
        # Only the lines appended since the last look are read.
        with self._lock, self.path.open("rb") as journal:
            journal.seek(self._read_to)
            data = journal.read()
            complete = data.rfind(b"\n") + 1
            self._read_to += complete
            for line in data[:complete].decode("ascii").splitlines():
                step, _, digest = line.partition(" ")
                if self._states.get(digest) == DELIVERED:
                    continue  # nothing after a 250 changes it
                self._states[digest] = step

    def outcome(self, idempotency_key: str, provider_message_id: str) -> SendResult:
        self._refresh()
        step = self._states.get(_digest(idempotency_key))
        if step == DELIVERED:
            return SendResult(
                Outcome.DELIVERED,
                provider_message_id=provider_message_id,
                code="journal",
                detail="the server accepted it (250) before the worker stopped",
            )
        if step in (TEMPORARY, PERMANENT):
            return SendResult(
                Outcome.FAILED,
                provider_message_id=provider_message_id,
                code="journal",
                detail="the server refused it before the worker stopped",
                retryable=step == TEMPORARY,
            )
        if step is None:
            return SendResult(
                Outcome.FAILED,
                code="never_sent",
                detail="the message text never left this server",
                retryable=True,
            )
        return SendResult(
            Outcome.UNKNOWN,
            provider_message_id=provider_message_id,
            code="no_answer",
            detail=(
                "the text was sent but the server's answer was not recorded; SMTP cannot be "
                "asked again, so only a person (or the receiving side's bounce) can settle it"
            ),
        )

    def close(self) -> None:
        os.close(self._fd)
