"""E-mail exactly once across a killed dispatcher, against a real SMTP server (aiosmtpd).

SMTP has no status API, so after a crash the provider's journal decides what was delivered.
The dispatcher is killed while the server is slow to answer RCPT: by then every message the
server has accepted has its 250 in the journal, although the database still says "sending"
for the whole wave, and the messages in flight have not had their text sent. (A kill in the
instant between the server's 250 and the journal line cannot be settled by anyone; those
messages stay "unknown" for a person, never resent. This test does not aim for that instant.)
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller

from tests.app.test_cli import _free_port, run_dangol
from tests.app.test_dispatch import _fresh_postgres_database

SEED = """
import datetime as dt, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangol.settings")
django.setup()
from django.utils import timezone
from dangol.core.tenancy import shop_scope
from dangol.customers.models import CreatedVia
from dangol.customers.services import CustomerInput, customer_bulk_create
from dangol.messaging.services import Outgoing, message_bulk_enqueue, template_create
from dangol.shops.services import shop_create
shop = shop_create(name="메일 카페", slug="mail", category="cafe", phone="02-555-0101",
                   optout_080="080-123-4567", sender_numbers=["02-555-0101"])
with shop_scope(shop):
    people = customer_bulk_create(shop=shop, created_via=CreatedVia.IMPORT, rows=[
        CustomerInput(name=f"손님{i}", phone=f"010-{1000 + i // 10000:04d}-{i % 10000:04d}",
                      email=f"guest{i}@example.com")
        for i in range(int(os.environ["N"]))])
    template = template_create(shop=shop, name="안내", channel="email", kind="info",
                               subject="주문하신 케이크가 준비됐어요",
                               body="{name}님, 오늘 20시까지 찾아가세요")
    print(message_bulk_enqueue(shop=shop, template=template, sender="",
        recipients=[Outgoing(c, {"name": c.name}, "1") for c in people], source="test",
        scheduled_for=timezone.now() - dt.timedelta(minutes=1)))
"""

# Every row's status and key, as JSON.
ROWS = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangol.settings")
django.setup()
from dangol.messaging.models import OutboxMessage
print(json.dumps(list(OutboxMessage.unscoped.values_list("idempotency_key", "status"))))
"""


class Server:
    """Counts the messages it accepts per idempotency key; once ``stall_after`` are in, it
    holds every new transaction at RCPT until released."""

    def __init__(self, stall_after: int) -> None:
        self.received: Counter[str] = Counter()
        self.stall_after = stall_after
        self.stalled = 0
        self.release = threading.Event()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if sum(self.received.values()) >= self.stall_after and not self.release.is_set():
            self.stalled += 1
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        received = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received[received["X-Dangol-Idempotency-Key"]] += 1
        return "250 2.0.0 Ok"


def _rows(env: dict[str, str]) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", ROWS], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.mark.slow
def test_killed_mid_batch_every_email_goes_exactly_once(tmp_path):
    n = 10_000
    port = _free_port()
    env = {
        "DANGOL_DATA_DIR": str(tmp_path),
        "DANGOL_EMAIL_PROVIDER": "smtp",
        "DANGOL_SMTP_HOST": "127.0.0.1",
        "DANGOL_SMTP_PORT": str(port),
        "DANGOL_SMTP_FROM": "메일 카페 <hi@cafe.example>",
        "DANGOL_SMTP_STARTTLS": "false",
        "DANGOL_SMTP_CONNECTIONS": "4",
        "N": str(n),
    }
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = _fresh_postgres_database(os.environ["DATABASE_URL"])
    assert run_dangol("migrate", env=env).returncode == 0
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DANGOL_REDIS_URL"}}
    seeded = subprocess.run(
        [sys.executable, "-c", SEED], env={**base, **env}, capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.strip().endswith(str(n))
    server = Server(stall_after=n // 3)
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        command = [sys.executable, "-m", "dangol.cli.main", "dispatch", "--until-empty"]
        worker = subprocess.Popen(
            [*command, "--batch", "200"],
            env={**base, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 300
        while server.stalled == 0 and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read().decode()
            time.sleep(0.02)
        # Every connection still sending finishes its message and stops at the next RCPT.
        time.sleep(0.3)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        killed_at = sum(server.received.values())
        assert n // 3 <= killed_at < n
        at_kill = _rows({**base, **env})
        accepted_unrecorded = [
            k for k, s in at_kill.items() if s == "sending" and k in server.received
        ]
        assert accepted_unrecorded, "the kill should leave accepted messages recorded as sending"
        server.release.set()
        again = run_dangol(
            "dispatch", "--until-empty", "--lease-seconds", "0", env=env, timeout=600
        )
        assert again.returncode == 0, again.stderr
        final = _rows({**base, **env})
    finally:
        server.release.set()
        controller.stop()
    assert len(server.received) == n
    assert set(server.received) == set(final)
    assert max(server.received.values()) == 1, "an e-mail was sent twice"
    assert set(final.values()) == {"delivered"}
