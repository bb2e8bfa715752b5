"""Messages through the policy gate into the outbox, and dispatch throughput to real servers.

    .venv/bin/python benchmarks/bench_messaging.py                     # SQLite, 100k / 20k
    .venv/bin/python benchmarks/bench_messaging.py --db postgres       # throwaway cluster
    .venv/bin/python benchmarks/bench_messaging.py --customers 20000 --dispatch 5000

Everything lives under var/bench-messaging/ (a fresh data directory per run, migrated with
``dangol migrate``; PostgreSQL: a throwaway loopback cluster started with scripts/pg.sh). Each
phase runs in its own process, so its peak RSS is its own:

* seed: one shop (registered sender, 080 number), N customers through
  ``customer_bulk_create`` (phone and e-mail, encrypted and blind-indexed as in production),
  SMS ad consent for 60 % of them, 500 080 opt-outs.
* enqueue: ``message_bulk_enqueue`` of one SMS ad template to all N customers (rendering,
  encryption, idempotency check, insert; timed), then the policy gate alone
  (``policy.evaluate``) over the same N messages with each customer's consent, opt-out and
  counters (timed). "Through the gate into the outbox" is the sum; the ratio printed is
  (gate + outbox write) / gate alone, i.e. what the database side costs relative to the law.
* dispatch: M fresh messages per provider, then ``outbox_dispatch(limit=--batch)`` until the
  queue is empty, timed end to end (claim, consent/suppression/counter look-ups, gate,
  "about to send" records, provider call, result records and events):
  - console (reference: the same pipeline with a provider that does no I/O),
  - webhook to a local HTTP gateway speaking the webhook contract (SMS ads),
  - SMTP to a real aiosmtpd server (informational e-mails), on --smtp-connections
    connections (default 4). The server offers PIPELINING (aiosmtpd answers pipelined commands
    in order but does not advertise it) unless --no-pipelining; --smtp-delay-ms makes it take
    that long to queue each message, like a busy relay.
  The servers run in their own processes, as a real gateway would, and count what arrives:
  every message must arrive exactly once. "provider alone" is the same number of sends to the
  same server without the outbox, the floor the dispatcher cannot beat; the ratio printed is
  dispatch time / console dispatch time.

This is a benchmark, not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

WORK = ROOT / "var" / "bench-messaging"
PG_DIR = WORK / "pg"
SECRET = "bench-gateway-secret"  # noqa: S105 (a local test server's)
# Friday 14:00 in Seoul: no night hold for ads.
NOW = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)
SENDER = "02-555-0101"
AD_BODY = "{name}님, 이번 주 신메뉴가 나왔어요. 아메리카노 한 잔 더 드려요"
INFO_SUBJECT = "{name}님, 주문하신 케이크가 준비됐어요"
INFO_BODY = "{name}님, 주문하신 케이크가 준비됐어요. 오늘 20시까지 찾아가세요.\n단골 카페"
ENQUEUE_GOAL_S = 10.0
DISPATCH_GOAL = 500.0  # messages/s


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def say(*parts: object) -> None:
    print(*parts, flush=True)


def result(data: dict) -> None:
    print("RESULT " + json.dumps(data), flush=True)


# ---------------------------------------------------------------------------------------------
# Servers (each in its own process; first stdout line: the port; "stats" on stdin: counts)


def serve_gateway() -> None:
    """The webhook contract of providers/webhook.py (same as the tests' gateway), HTTP/1.1."""
    import threading
    from collections import Counter
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import unquote

    posts: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive when the client asks for it
        disable_nagle_algorithm = True  # headers and body go out at once, as real servers do

        def log_message(self, *args):
            pass

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            payload = json.loads(self.rfile.read(length))
            if self.headers.get("X-Dangol-Secret") != SECRET:
                return self._reply(401, {"error": "bad secret"})
            key = payload["idempotency_key"]
            with lock:
                posts[key] += 1
            return self._reply(202, {"id": f"gw-{key}", "status": "accepted"})

        def do_GET(self):
            key = unquote(self.path.rsplit("/", 1)[-1])
            with lock:
                known = key in posts
            if not known:
                return self._reply(404, {"error": "not found"})
            return self._reply(200, {"id": f"gw-{key}", "status": "delivered"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            with lock:
                stats = {
                    "posts": sum(posts.values()),
                    "distinct": len(posts),
                    "max": max(posts.values(), default=0),
                }
            print(json.dumps(stats), flush=True)
    server.shutdown()


def serve_smtp(pipelining: bool, delay_ms: int) -> None:
    import asyncio
    import socket
    import threading
    from collections import Counter

    from aiosmtpd.controller import Controller

    received: Counter[str] = Counter()
    lock = threading.Lock()

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            # aiosmtpd reads commands from a buffered stream and answers them in order, so it
            # handles pipelined commands; it just does not say so by default.
            session.host_name = hostname
            if pipelining:
                responses.insert(-1, "250-PIPELINING")
            return responses

        async def handle_DATA(self, server, session, envelope):
            if delay_ms:
                # A relay that takes this long to queue each message (disk, filters); other
                # sessions are served meanwhile.
                await asyncio.sleep(delay_ms / 1000)
            key = ""
            for line in envelope.content.split(b"\r\n"):
                if line.lower().startswith(b"x-dangol-idempotency-key:"):
                    key = line.split(b":", 1)[1].strip().decode()
                    break
                if not line:
                    break
            with lock:
                received[key] += 1
            return "250 2.0.0 Ok: queued"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, server_hostname="bench.local"
    )
    controller.start()
    print(port, flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            with lock:
                stats = {
                    "posts": sum(received.values()),
                    "distinct": len(received),
                    "max": max(received.values(), default=0),
                    "server_cpu_s": round(time.process_time(), 2),
                }
            print(json.dumps(stats), flush=True)
    controller.stop()


class Server:
    def __init__(self, kind: str, *extra: str) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", kind, *extra]
        self.process = subprocess.Popen(  # noqa: S603 (this file, fixed arguments)
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def stats(self) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ---------------------------------------------------------------------------------------------
# Phases (run inside Django, in a child process)


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangol.settings")
    import django

    django.setup()


def _shop():
    from dangol.shops.models import Shop

    return Shop.objects.get(slug="bench-messaging")


def phase_seed(customers: int) -> None:
    _django()
    from dangol.core.tenancy import shop_scope
    from dangol.customers.models import CreatedVia
    from dangol.customers.services import (
        ConsentInput,
        CustomerInput,
        consent_bulk_record,
        customer_bulk_create,
    )
    from dangol.messaging.services import suppression_add
    from dangol.shops.services import shop_create

    started = time.perf_counter()
    shop = shop_create(
        name="단골 카페",
        slug="bench-messaging",
        category="cafe",
        phone="02-555-0101",
        optout_080="080-123-4567",
        sender_numbers=[SENDER],
    )
    with shop_scope(shop):
        rows = [
            CustomerInput(
                name=f"손님{i}",
                phone=f"010-{1000 + i // 10000:04d}-{i % 10000:04d}",
                email=f"guest{i}@example.com",
            )
            for i in range(customers)
        ]
        people = customer_bulk_create(
            shop=shop, rows=rows, created_via=CreatedVia.IMPORT, batch_size=2000
        )
        created_s = time.perf_counter() - started
        consent = ConsentInput(
            kind="ad_sms", granted=True, source="staff", occurred_at=NOW - dt.timedelta(days=30)
        )
        consents = consent_bulk_record(
            items=[(c, consent) for i, c in enumerate(people) if i % 5 < 3], batch_size=2000
        )
        # 500 080 opt-outs among the consenting customers (every 100th of the first 50,000).
        for c in people[:50_000:100]:
            suppression_add(shop=shop, address=c.phone, channel="sms", source="080")
    seed_s = time.perf_counter() - started
    say(
        f"seed: {customers:,} customers in {created_s:.1f} s, {consents:,} consents, "
        f"total {seed_s:.1f} s, peak RSS {peak_rss_mb():.0f} MB"
    )
    result(
        {
            "customers": customers,
            "customers_s": created_s,
            "seed_s": seed_s,
            "consents": consents,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def _customers(shop, ids: slice | None = None):
    from dangol.customers.models import Customer

    rows = Customer.unscoped.filter(shop=shop).order_by("pk")
    return list(rows if ids is None else rows[ids])


def phase_enqueue() -> None:
    _django()
    from collections import Counter

    from dangol.core.tenancy import shop_scope
    from dangol.customers.selectors import consent_states
    from dangol.messaging import policy
    from dangol.messaging.models import OutboxMessage, Suppression
    from dangol.messaging.recipients import shop_identity
    from dangol.messaging.services import (
        Outgoing,
        address_bidx,
        message_bulk_enqueue,
        template_create,
    )
    from dangol.messaging.templates import render

    shop = _shop()
    with shop_scope(shop):
        started = time.perf_counter()
        people = _customers(shop)
        load_s = time.perf_counter() - started
        template = template_create(shop=shop, name="신메뉴", channel="sms", kind="ad", body=AD_BODY)
        # Not due during the dispatch phases: these are the enqueue measurement's own rows.
        later = NOW + dt.timedelta(days=30)
        started, cpu = time.perf_counter(), time.process_time()
        added = message_bulk_enqueue(
            shop=shop,
            template=template,
            sender=SENDER,
            source="bench-enqueue",
            recipients=[Outgoing(c, {"name": c.name}, "1") for c in people],
            scheduled_for=later,
        )
        enqueue_s = time.perf_counter() - started
        enqueue_cpu_s = time.process_time() - cpu
        assert added == len(people) == OutboxMessage.unscoped.filter(shop=shop).count()
        again_started = time.perf_counter()
        again = message_bulk_enqueue(
            shop=shop,
            template=template,
            sender=SENDER,
            source="bench-enqueue",
            recipients=[Outgoing(c, {"name": c.name}, "1") for c in people],
            scheduled_for=later,
        )
        again_s = time.perf_counter() - again_started
        assert again == 0
        say(
            f"enqueue: {added:,} messages in {enqueue_s:.2f} s (customers loaded in "
            f"{load_s:.2f} s; repeating the call adds {again} in {again_s:.2f} s)"
        )

        # The gate alone, with each customer's inputs as the dispatcher would gather them.
        states = consent_states(shop=shop, customer_ids=[c.pk for c in people])
        opted = set(Suppression.unscoped.filter(shop=shop).values_list("address_bidx", flat=True))
        identity = shop_identity(shop)
        settings = policy.PolicySettings()
        inputs = []
        for c in people:
            state = states.get(c.pk, {})
            inputs.append(
                (
                    policy.Message(
                        channel="sms",
                        kind="ad",
                        body=render(AD_BODY, {"name": c.name}),
                        send_at=NOW,
                        sender=SENDER,
                    ),
                    policy.Recipient(
                        ad_consent={"sms": state.get("ad_sms", False)},
                        opted_out=address_bidx(shop_id=shop.pk, address=c.phone) in opted,
                    ),
                )
            )
        started, cpu = time.perf_counter(), time.process_time()
        decisions = [policy.evaluate(m, r, identity, settings) for m, r in inputs]
        gate_s = time.perf_counter() - started
        gate_cpu_s = time.process_time() - cpu
        verdicts = Counter(d.decision for d in decisions)
        types = Counter(d.message_type for d in decisions)
    say(
        f"gate alone: {len(decisions):,} decisions in {gate_s:.2f} s "
        f"({dict(verdicts)}, {dict(types)})"
    )
    say(f"CPU time of this process: outbox write {enqueue_cpu_s:.2f} s, gate {gate_cpu_s:.2f} s")
    say(
        f"gate + outbox write: {gate_s + enqueue_s:.2f} s, "
        f"{(gate_s + enqueue_s) / gate_s:.1f}x the gate alone; peak RSS {peak_rss_mb():.0f} MB"
    )
    result(
        {
            "messages": added,
            "load_s": load_s,
            "enqueue_s": enqueue_s,
            "again_s": again_s,
            "gate_s": gate_s,
            "enqueue_cpu_s": enqueue_cpu_s,
            "gate_cpu_s": gate_cpu_s,
            "verdicts": dict(verdicts),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def phase_dispatch(
    provider_name: str,
    count: int,
    batch: int,
    offset: int,
    connections: int,
    pipelining: bool,
    delay_ms: int,
) -> None:
    _django()
    from collections import Counter

    from dangol.core.tenancy import shop_scope
    from dangol.customers.models import Customer
    from dangol.messaging.dispatch import _outgoing, outbox_dispatch
    from dangol.messaging.models import OutboxMessage
    from dangol.messaging.providers.console import ConsoleProvider
    from dangol.messaging.providers.smtp import SmtpProvider
    from dangol.messaging.providers.webhook import WebhookProvider
    from dangol.messaging.sending import send_all
    from dangol.messaging.services import Outgoing, message_bulk_enqueue, template_create

    shop = _shop()
    server = None
    if provider_name == "webhook":
        server = Server("gateway")
        url = f"http://127.0.0.1:{server.port}/messages"
        provider = WebhookProvider(url=url, secret=SECRET)
        make = lambda: WebhookProvider(url=url, secret=SECRET)  # noqa: E731
        channel = "sms"
    elif provider_name == "smtp":
        server = Server(
            "smtp",
            *([] if pipelining else ["--no-pipelining"]),
            *(["--smtp-delay-ms", str(delay_ms)] if delay_ms else []),
        )
        provider = SmtpProvider(
            "127.0.0.1",
            server.port,
            from_address="단골 카페 <hello@dangol.kr>",
            timeout=10.0,
            connections=connections,
        )
        make = None
        channel = "email"
    else:
        provider = ConsoleProvider()
        make = None
        channel = "sms"
    source = f"bench-{provider_name}"
    try:
        with shop_scope(shop):
            # Only the chosen customers are loaded, so the peak RSS is the dispatcher's.
            pks = list(
                Customer.unscoped.filter(shop=shop).order_by("pk").values_list("pk", flat=True)
            )
            if channel == "sms":
                # Consenting customers (i % 5 < 3), a different slice per provider: ads are
                # capped at one a day per customer.
                wanted = [pk for i, pk in enumerate(pks) if i % 5 < 3][offset : offset + count]
                template = template_create(
                    shop=shop, name=source, channel="sms", kind="ad", body=AD_BODY
                )
            else:
                wanted = pks[offset : offset + count]
                template = template_create(
                    shop=shop,
                    name=source,
                    channel="email",
                    kind="info",
                    body=INFO_BODY,
                    subject=INFO_SUBJECT,
                )
            chosen = list(Customer.unscoped.filter(pk__in=wanted).order_by("pk"))
            queued = message_bulk_enqueue(
                shop=shop,
                template=template,
                sender=SENDER,
                source=source,
                recipients=[Outgoing(c, {"name": c.name}, "1") for c in chosen],
                scheduled_for=NOW - dt.timedelta(minutes=1),
            )
            del pks, wanted, chosen
            rounds = 0
            totals: Counter[str] = Counter()
            started = time.perf_counter()
            while True:
                report = outbox_dispatch(providers={channel: provider}, now=NOW, limit=batch)
                if report.claimed == 0:
                    break
                rounds += 1
                for name in (
                    "claimed",
                    "sent",
                    "delivered",
                    "blocked",
                    "held",
                    "failed",
                    "unknown",
                    "retried",
                ):
                    totals[name] += getattr(report, name)
            dispatch_s = time.perf_counter() - started
            statuses = Counter(
                OutboxMessage.unscoped.filter(shop=shop, source=source).values_list(
                    "status", flat=True
                )
            )
            rss = peak_rss_mb()
            arrived = (
                server.stats()
                if server
                else {
                    "posts": len(provider.sent),
                    "distinct": len({m.idempotency_key for m in provider.sent}),
                    "max": 1,
                }
            )
            # The provider alone: the same number of sends to the same server, no outbox.
            sample = list(
                OutboxMessage.unscoped.filter(shop=shop, source=source).order_by("pk")[:count]
            )
            alone = (
                make() if make else (ConsoleProvider() if provider_name == "console" else provider)
            )
            outgoing = [
                replace(_outgoing(m, None), idempotency_key="alone|" + m.idempotency_key)
                for m in sample
            ]
            started = time.perf_counter()
            # As the dispatcher hands them over (SMTP: on several connections at once).
            send_all([(m, m, alone) for m in outgoing], lambda row, answer: None)
            alone_s = time.perf_counter() - started
    finally:
        if server is not None:
            server.close()
    rate = queued / dispatch_s
    say(
        f"dispatch {provider_name}: {queued:,} messages in {dispatch_s:.2f} s = {rate:,.0f}/s "
        f"({rounds} rounds of {batch}; {dict(totals)}; statuses {dict(statuses)}; "
        f"server got {arrived}); provider alone {alone_s:.2f} s = {count / alone_s:,.0f}/s; "
        f"peak RSS {rss:.0f} MB"
    )
    # Exactly once: every message the outbox calls sent arrived once, and nothing else did
    # (the blocked ones are the 080 opt-outs among the chosen customers).
    gone = statuses.get("sent", 0) + statuses.get("delivered", 0)
    ok = (
        gone == arrived["posts"] == arrived["distinct"]
        and gone + statuses.get("blocked", 0) == queued
        and arrived["max"] == 1
    )
    result(
        {
            "provider": provider_name,
            "messages": queued,
            "dispatch_s": dispatch_s,
            "rate": rate,
            "alone_s": alone_s,
            "rounds": rounds,
            "exactly_once": ok,
            "statuses": dict(statuses),
            "arrived": arrived,
            "peak_rss_mb": rss,
        }
    )


# ---------------------------------------------------------------------------------------------
# Orchestration


def run_child(args: list[str], env: dict[str, str]) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    data: dict = {}
    with subprocess.Popen(  # noqa: S603 (this file, fixed arguments)
        command,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("RESULT "):
                data = json.loads(line[len("RESULT ") :])
            else:
                print("    " + line, end="", flush=True)
    if child.returncode != 0:
        raise SystemExit(f"phase {args[:2]} failed ({child.returncode})")
    return data


def pg(action: str) -> str:
    """The test suite's throwaway PostgreSQL cluster (scripts/pg.sh), under var/."""
    command = [
        shutil.which("bash") or "bash",
        str(ROOT / "scripts" / "pg.sh"),
        action,
        str(PG_DIR),
    ]
    done = subprocess.run(  # noqa: S603 (fixed arguments)
        command,
        cwd=ROOT,
        check=action == "start",
        capture_output=True,
        text=True,
    )
    return done.stdout


def bench(
    db: str, customers: int, dispatch: int, smtp: int, batch: int, smtp_options: list[str]
) -> dict:
    say(
        f"\n== {db}: {customers:,} customers, {dispatch:,} messages per dispatch run, "
        f"batch {batch} =="
    )
    data_dir = WORK / db
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {
        **os.environ,
        "DANGOL_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "dangol.settings",
    }
    env.pop("DATABASE_URL", None)
    if db == "postgres":
        pg("stop")
        shutil.rmtree(PG_DIR, ignore_errors=True)
        url = pg("start").strip().splitlines()[-1]
        import psycopg

        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_messaging")
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/bench_messaging"
    try:
        subprocess.run(
            [sys.executable, "-m", "dangol.cli.main", "migrate"],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        seed = run_child(["--phase", "seed", "--customers", str(customers)], env)
        enqueue = run_child(["--phase", "enqueue"], env)
        runs = {}
        offset = 0
        for name in ("console", "webhook", "smtp"):
            runs[name] = run_child(
                [
                    "--phase",
                    "dispatch",
                    "--provider",
                    name,
                    "--dispatch",
                    str(smtp if name == "smtp" else dispatch),
                    "--batch",
                    str(batch),
                    "--offset",
                    str(offset if name != "smtp" else 0),
                    *smtp_options,
                ],
                env,
            )
            offset += dispatch
    finally:
        if db == "postgres":
            pg("stop")
    return {"db": db, "seed": seed, "enqueue": enqueue, "dispatch": runs}


def summary(run: dict) -> str:
    e, d = run["enqueue"], run["dispatch"]
    through = e["enqueue_s"] + e["gate_s"]
    console = d["console"]["dispatch_s"]
    lines = [
        f"### {run['db']}",
        "",
        "| step | messages | s | per second | ratio | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
        f"| gate alone (`policy.evaluate`) | {e['messages']:,} | {e['gate_s']:.2f} | "
        f"{e['messages'] / e['gate_s']:,.0f} | 1× | - |",
        f"| outbox write (`message_bulk_enqueue`) | {e['messages']:,} | {e['enqueue_s']:.2f} | "
        f"{e['messages'] / e['enqueue_s']:,.0f} | - | {e['peak_rss_mb']:.0f} |",
        f"| gate + outbox write | {e['messages']:,} | {through:.2f} | "
        f"{e['messages'] / through:,.0f} | {through / e['gate_s']:.1f}× | - |",
    ]
    for name, label in (
        ("console", "dispatch → console (reference)"),
        ("webhook", "dispatch → HTTP gateway (webhook)"),
        ("smtp", "dispatch → aiosmtpd (SMTP)"),
    ):
        r = d[name]
        lines.append(
            f"| {label} | {r['messages']:,} | {r['dispatch_s']:.2f} | {r['rate']:,.0f} | "
            f"{r['dispatch_s'] / console:.1f}× | {r['peak_rss_mb']:.0f} |"
        )
        lines.append(
            f"| {name} provider alone (no outbox) | {r['messages']:,} | {r['alone_s']:.2f} | "
            f"{r['messages'] / r['alone_s']:,.0f} | - | - |"
        )
    goals = [
        f"100k through the gate into the outbox ≤ {ENQUEUE_GOAL_S:.0f} s: "
        f"{'met' if through <= ENQUEUE_GOAL_S else 'NOT met'} ({through:.2f} s)",
        *(
            f"dispatch to {n} ≥ {DISPATCH_GOAL:.0f}/s: "
            f"{'met' if d[n]['rate'] >= DISPATCH_GOAL else 'NOT met'} ({d[n]['rate']:,.0f}/s), "
            f"exactly once: {'yes' if d[n]['exactly_once'] else 'NO'}"
            for n in ("webhook", "smtp")
        ),
    ]
    return "\n".join([*lines, "", *goals])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--dispatch", type=int, default=20_000)
    parser.add_argument("--smtp-dispatch", type=int, help="SMTP messages (default: --dispatch)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--phase", choices=("seed", "enqueue", "dispatch"))
    parser.add_argument("--provider", choices=("console", "webhook", "smtp"))
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--serve", choices=("gateway", "smtp"))
    parser.add_argument(
        "--smtp-connections", type=int, default=4, help="SMTP connections used at once"
    )
    parser.add_argument(
        "--no-pipelining", action="store_true", help="the SMTP server does not offer PIPELINING"
    )
    parser.add_argument(
        "--smtp-delay-ms", type=int, default=0, help="the SMTP server's time to queue a message"
    )
    args = parser.parse_args()
    if args.serve == "gateway":
        return serve_gateway()
    if args.serve == "smtp":
        return serve_smtp(not args.no_pipelining, args.smtp_delay_ms)
    if args.phase == "seed":
        return phase_seed(args.customers)
    if args.phase == "enqueue":
        return phase_enqueue()
    if args.phase == "dispatch":
        return phase_dispatch(
            args.provider,
            args.dispatch,
            args.batch,
            args.offset,
            args.smtp_connections,
            not args.no_pipelining,
            args.smtp_delay_ms,
        )
    if args.dispatch * 2 > args.customers * 3 // 5:
        raise SystemExit("--dispatch must be at most 30 % of --customers (two ad slices)")
    databases = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    load = os.getloadavg()
    smtp = args.smtp_dispatch or args.dispatch
    smtp_options = ["--smtp-connections", str(args.smtp_connections)]
    if args.no_pipelining:
        smtp_options.append("--no-pipelining")
    if args.smtp_delay_ms:
        smtp_options += ["--smtp-delay-ms", str(args.smtp_delay_ms)]
    runs = [
        bench(db, args.customers, args.dispatch, smtp, args.batch, smtp_options) for db in databases
    ]
    say(f"\nload average before the run: {load[0]:.1f} (cores: {os.cpu_count()})\n")
    for run in runs:
        say(summary(run) + "\n")
    (WORK / "last.json").write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
