"""The POS API under load, served as in production, against the service called directly.

    .venv/bin/python benchmarks/bench_api.py
    .venv/bin/python benchmarks/bench_api.py --batches 10 --seconds 10 --rate 100

A fresh SQLite database (WAL, as configured by the settings) under var/bench-api/ gets a shop
with a store, a points policy (so every purchase also earns points, as in a shop) and a POS
API key whose rate limit is raised for the run (``DANGOL_API_RATE_PER_SECOND``). Two
``dangol serve`` processes (waitress, 4 threads each) listen on two loopback ports; the
client below splits the load between them and keeps its connections alive (threads and
``http.client``).

Measured:

(a) batch ingestion: ``--batches`` batches of 1,000 purchases (four in five with a customer's
    phone, out of 2,000 customers created on first sight) sent to ``/purchases/batch`` by two
    client threads, one per server; purchases per second over the whole run. Reference: the
    same batches written by ``pos_purchases_ingest`` in this process, without HTTP, into
    another shop. Goal: ≥ 1,000 purchases/s over HTTP.
(b) single purchases: ``POST /purchases`` at a steady ``--rate`` requests per second for
    ``--seconds`` (open loop: each request has its own start time, and its latency counts from
    that time, so a slow answer also delays the ones queued behind it). p50, p99 and max.
    Reference: the same single purchase through ``pos_purchases_ingest``, one after another.
    Goal: p99 < 100 ms at 100 requests/s.

Printed: figures, ratios to the references, the load average before and after, and a check
that every purchase was stored exactly once. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import queue
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
WORK = ROOT / "var" / "bench-api"
PORTS = (18761, 18762)
THREADS_PER_SERVER = 4
BATCH = 1000
CUSTOMERS = 2000
MENU = [("아메리카노", 4500), ("카페라떼", 5000), ("크루아상", 3800), ("치즈케이크", 6500)]
GOAL_RATE = 1000.0
GOAL_P99_MS = 100.0


def purchase(rnd: random.Random, external_id: str) -> dict:
    name, price = MENU[rnd.randrange(len(MENU))]
    item = {
        "external_id": external_id,
        "occurred_at": (
            dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC) + dt.timedelta(seconds=rnd.randrange(10**7))
        ).isoformat(),
        "lines": [{"name": name, "quantity": rnd.randint(1, 3), "unit_price": price}],
    }
    if rnd.random() < 0.8:
        c = rnd.randrange(CUSTOMERS)
        item["customer_phone"] = f"010-{3000 + c // 100:04d}-{c % 100:04d}"
        item["customer_name"] = f"고객{c}"
    return item


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


class Conn:
    """One keep-alive connection to one server."""

    def __init__(self, port: int, key: str):
        self.port, self.key = port, key
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        data = json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        for attempt in (1, 2):
            try:
                self.conn.request("POST", "/api/v1/pos" + path, data, headers)
                response = self.conn.getresponse()
                return response.status, json.loads(response.read())
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def wait_for(port: int, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"server on port {port} stopped: see {WORK}/server-{port}.log")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["DANGOL_DATA_DIR"] = str(WORK)
    os.environ["DANGOL_API_RATE_PER_SECOND"] = "100000"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangol.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    from dangol.api.ingest import PurchaseIn
    from dangol.core.tenancy import shop_scope
    from dangol.loyalty.points import PolicyInput, points_policy_create
    from dangol.sales.models import Purchase
    from dangol.shops.models import ApiScope
    from dangol.shops.services import api_key_create, shop_create, store_create

    call_command("migrate", verbosity=0)
    journal = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]

    def make_shop(slug: str):
        shop = shop_create(name=slug, slug=slug, category="cafe")
        store = store_create(shop=shop, code="main", name="본점")
        points_policy_create(
            shop=shop,
            data=PolicyInput(earn_rate_bp=500),
            user=None,
            now=timezone.now() - dt.timedelta(days=400),
        )
        return shop, store

    http_shop, http_store = make_shop("bench-http")
    ref_shop, ref_store = make_shop("bench-direct")
    _, key = api_key_create(
        shop=http_shop, store=http_store, name="bench", scopes=[ApiScope.PURCHASES_WRITE]
    )
    rnd = random.Random(7)
    batches = [
        [purchase(rnd, f"B{b:03d}-{i:04d}") for i in range(BATCH)] for b in range(args.batches)
    ]
    singles = int(args.seconds * args.rate)
    single_bodies = [purchase(rnd, f"S-{i:06d}") for i in range(singles)]
    ref_singles = [purchase(rnd, f"R-{i:06d}") for i in range(min(singles, 1000))]

    from dangol.api.ingest_services import pos_purchases_ingest

    def direct(shop, store, items: list[dict]) -> None:
        with shop_scope(shop):
            results = pos_purchases_ingest(
                shop=shop, store=store, items=[PurchaseIn.model_validate(i).data() for i in items]
            )
        assert all(r.status == "created" for r in results), results[:1]

    print(f"SQLite journal mode: {journal}; {os.cpu_count()} CPUs; load before: {load()}")

    # (a) reference: the batches without HTTP, into the other shop.
    begin = time.perf_counter()
    for b, items in enumerate(batches):
        direct(
            ref_shop, ref_store, [{**i, "external_id": f"D{b}-{n}"} for n, i in enumerate(items)]
        )
    t_ref_batch = time.perf_counter() - begin
    connections.close_all()

    env = {**os.environ, "DANGOL_LOG_LEVEL": "ERROR"}
    servers = []
    for port in PORTS:
        log = open(WORK / f"server-{port}.log", "wb")  # noqa: SIM115 (open while it runs)
        servers.append(
            subprocess.Popen(  # noqa: S603 (the project's own command)
                [
                    str(ROOT / ".venv" / "bin" / "dangol"),
                    "serve",
                    "--port",
                    str(port),
                    "--threads",
                    str(THREADS_PER_SERVER),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        for port, server in zip(PORTS, servers, strict=True):
            wait_for(port, server)
        for port in PORTS:  # warm up: imports, the key's first use, connections
            status, _ = Conn(port, key).post("/purchases", purchase(rnd, f"W-{port}"))
            assert status == 201, status

        # (a) batches over HTTP: one client thread per server, half of the batches each.
        failures: list[str] = []

        def send_batches(port: int, mine: list[list[dict]]) -> None:
            conn = Conn(port, key)
            for items in mine:
                status, body = conn.post("/purchases/batch", {"items": items})
                if status != 200 or body.get("created") != len(items):
                    failures.append(f"{status} {str(body)[:200]}")

        threads = [
            threading.Thread(target=send_batches, args=(port, batches[n :: len(PORTS)]))
            for n, port in enumerate(PORTS)
        ]
        begin = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        t_http_batch = time.perf_counter() - begin
        load_after_batch = load()

        # (b) reference: single purchases one after another without HTTP.
        ref_latencies = []
        for item in ref_singles:
            start = time.perf_counter()
            direct(ref_shop, ref_store, [item])
            ref_latencies.append((time.perf_counter() - start) * 1000)
        connections.close_all()

        # (b) single purchases over HTTP at a steady rate, alternating servers.
        work: queue.Queue = queue.Queue()
        latencies: list[float] = []
        service: list[float] = []
        lock = threading.Lock()

        def worker() -> None:
            conns = {port: Conn(port, key) for port in PORTS}
            while (task := work.get()) is not None:
                due, port, body = task
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                sent = time.perf_counter()
                status, answer = conns[port].post("/purchases", body)
                done = time.perf_counter()
                with lock:
                    latencies.append((done - due) * 1000)
                    service.append((done - sent) * 1000)
                    if status != 201:
                        failures.append(f"{status} {str(answer)[:200]}")

        pool = [threading.Thread(target=worker) for _ in range(16)]
        for t in pool:
            t.start()
        start = time.perf_counter() + 0.2
        for i, body in enumerate(single_bodies):
            work.put((start + i / args.rate, PORTS[i % len(PORTS)], body))
        for _ in pool:
            work.put(None)
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - start
        load_after = load()
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

    with shop_scope(http_shop):
        stored = Purchase.objects.for_shop(http_shop).count()
    expected = args.batches * BATCH + singles + len(PORTS)
    total = args.batches * BATCH
    rate_http, rate_ref = total / t_http_batch, total / t_ref_batch
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    r50, r99 = percentile(ref_latencies, 50), percentile(ref_latencies, 99)
    print(
        f"(a) batches of {BATCH:,}: {total:,} purchases\n"
        f"    HTTP, 2 waitress processes   {t_http_batch:7.2f} s  {rate_http:8,.0f} purchases/s\n"
        f"    direct service (reference)   {t_ref_batch:7.2f} s  {rate_ref:8,.0f} purchases/s\n"
        f"    ratio HTTP / direct: {rate_http / rate_ref:.2f}; goal ≥ {GOAL_RATE:,.0f}/s: "
        f"{'met' if rate_http >= GOAL_RATE else 'NOT met'}"
    )
    print(
        f"(b) single purchases: {len(latencies):,} at {args.rate:.0f}/s over {elapsed:.1f} s "
        f"(achieved {len(latencies) / elapsed:.1f}/s)\n"
        f"    HTTP from scheduled start   p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
        f"max {max(latencies):6.1f} ms\n"
        f"    HTTP from send              p50 {percentile(service, 50):6.1f} ms  "
        f"p99 {percentile(service, 99):6.1f} ms\n"
        f"    direct service (reference)  p50 {r50:6.1f} ms  p99 {r99:6.1f} ms "
        f"({len(ref_latencies):,} one after another)\n"
        f"    ratio HTTP / direct: p50 {p50 / r50:.1f}x, p99 {p99 / r99:.1f}x; "
        f"goal p99 < {GOAL_P99_MS:.0f} ms: {'met' if p99 < GOAL_P99_MS else 'NOT met'}"
    )
    print(
        f"load average (1, 5, 15 min) after the batches: {load_after_batch}; "
        f"at the end: {load_after}"
    )
    print(f"stored {stored:,} of {expected:,} purchases; failures: {len(failures)}")
    for failure in failures[:5]:
        print("   ", failure)
    return 0 if stored == expected and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
