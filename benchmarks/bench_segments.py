"""Time of every built-in segment and of a full membership refresh, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_segments.py                  # 1M customers / 10M purchases
    .venv/bin/python benchmarks/bench_segments.py --customers 100000 --purchases 1000000 --db sqlite
    .venv/bin/python benchmarks/bench_segments.py --reuse          # keep already loaded data

For each database, two shops' worth of data are built the same way (see _segment_data.py): the
requested size and a reference of a tenth of it (``--reference-customers``, 0 to skip). Each
database lives under var/bench-segments/ (PostgreSQL: a throwaway cluster started there, as
the test suite does, with loopback access only). Per size:

* load (own process): ``dangol migrate``, the shop, stores and products through the services,
  then customers, purchases, lines, consent events, a scoring run and one score per customer
  with raw bulk SQL; the per-customer totals are then rebuilt with the product's own
  ``customer_stats_rebuild`` (timed: "stats rebuild"); ANALYZE (PostgreSQL: VACUUM ANALYZE).
* measure (own process, so its peak RSS is its own): for each built-in segment the time of
  ``customers_matching(parse_rule(rule), context_for(shop=..., now=NOW)).count()`` - best of
  three after one warm-up (a single timed run when the warm-up took over 10 s) - and the
  count; the SQL and the database's plan of every segment over one second; then
  ``shop_segments_refresh`` twice at the same moment: the first refresh (every member
  enters) and the second (nothing changes).

The ratio printed next to each time is time(full size) / time(reference) measured in the same
run on data generated the same way: 10x means the segment scales linearly with the shop, less
means fixed costs dominate, more means something super-linear. This is a benchmark, not a
test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

WORK = ROOT / "var" / "bench-segments"
PG_DIR = WORK / "pg"
SLOW = 1.0  # seconds: the goal for one segment
REFRESH_GOAL = 30.0  # seconds: the goal for refreshing every built-in
ONCE_AFTER = 10.0  # seconds: a segment whose warm-up takes longer is timed once, not thrice
# PostgreSQL settings of the benchmark cluster. Durability is off (throwaway data); memory is a
# modest production-like setting for a 2-core / 24 GB machine.
PG_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "8GB",
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def say(*parts: object) -> None:
    print(*parts, flush=True)


# ---------------------------------------------------------------------------------------------
# PostgreSQL cluster (the same approach as the test suite's scripts/pg.sh)


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        raise SystemExit("PostgreSQL server binaries not found")
    return found[-1]


def _as_pg(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


def pg_start() -> int:
    bin_dir = _pg_bin()
    data = PG_DIR / "data"
    port_file = PG_DIR / "port"
    if not data.exists():
        PG_DIR.mkdir(parents=True, exist_ok=True)
        if os.getuid() == 0:
            shutil.chown(PG_DIR, "postgres")
        init = [str(bin_dir / "initdb"), "-D", str(data), "-U", "dangol", "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8"]
        with open(PG_DIR / "initdb.log", "w") as log:
            subprocess.run(_as_pg(init), check=True, stdout=log, stderr=log)  # noqa: S603
    status = subprocess.run(_as_pg([str(bin_dir / "pg_ctl"), "-D", str(data), "status"]),  # noqa: S603
                            capture_output=True)
    if status.returncode == 0 and port_file.exists():
        return int(port_file.read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    options = f"-h 127.0.0.1 -p {port} -k {PG_DIR} " + " ".join(
        f"-c {k}={v}" for k, v in PG_SETTINGS.items())
    start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(PG_DIR / "server.log"), "-w",
             "-o", options, "start"]
    subprocess.run(_as_pg(start), check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    port_file.write_text(str(port))
    return port


def pg_stop() -> None:
    data = PG_DIR / "data"
    if data.exists():
        stop = [str(_pg_bin() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
        subprocess.run(_as_pg(stop), check=False, stdout=subprocess.DEVNULL)  # noqa: S603
        (PG_DIR / "port").unlink(missing_ok=True)


def pg_recreate_database(port: int, name: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://dangol@127.0.0.1:{port}/postgres",
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


# ---------------------------------------------------------------------------------------------
# Orchestration


def run_child(args: list[str], env: dict[str, str]) -> dict:
    """Run a phase in its own process, echo its output, return its RESULT line."""
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    result: dict = {}
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True,  # noqa: S603
                          cwd=ROOT) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
            else:
                print("    " + line, end="", flush=True)
    if child.returncode != 0:
        raise SystemExit(f"phase {args[:2]} failed ({child.returncode})")
    return result


def prepare(db: str, customers: int, purchases: int, seed: int, reuse: bool,
            port: int | None) -> tuple[dict[str, str], dict]:
    label = f"{db}-{customers}-{purchases}"
    data_dir = WORK / label
    marker = data_dir / "loaded.json"
    wanted = {"customers": customers, "purchases_target": purchases, "seed": seed}
    fresh = not (reuse and marker.exists()
                 and {k: json.loads(marker.read_text()).get(k) for k in wanted} == wanted)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DANGOL_DATA_DIR": str(data_dir),
           "DJANGO_SETTINGS_MODULE": "dangol.settings"}
    env.pop("DATABASE_URL", None)
    if db == "postgres":
        name = f"bench_{customers}_{purchases}"
        env["DATABASE_URL"] = f"postgres://dangol@127.0.0.1:{port}/{name}"
        if fresh:
            pg_recreate_database(port, name)
    elif fresh:
        for path in data_dir.glob("dangol.sqlite3*"):
            path.unlink()
    if fresh:
        marker.unlink(missing_ok=True)
    say(f"  migrate ({'fresh database' if fresh else 'reusing loaded data'})")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dangol.cli.main", "migrate"], env=env,
                   check=True, cwd=ROOT)
    migrate_s = time.perf_counter() - started
    common = ["--customers", str(customers), "--purchases", str(purchases), "--seed", str(seed)]
    load = run_child(["--phase", "load", *common], env)
    load["migrate_s"] = migrate_s
    return env, load


def bench_size(db: str, customers: int, purchases: int, seed: int, reuse: bool,
               port: int | None) -> dict:
    say(f"\n== {db}: {customers:,} customers / {purchases:,} purchases ==")
    env, load = prepare(db, customers, purchases, seed, reuse, port)
    common = ["--customers", str(customers), "--purchases", str(purchases), "--seed", str(seed)]
    measure = run_child(["--phase", "measure", *common], env)
    return {"db": db, "customers": customers, "purchases": purchases, "load": load,
            "measure": measure}


def report(db: str, full: dict, ref: dict | None) -> str:
    """A markdown table of the run (also printed)."""
    m = full["measure"]
    ref_times = {s["key"]: s for s in ref["measure"]["segments"]} if ref else {}
    rc = f"{ref['customers']:,}" if ref else "-"
    lines = [
        f"### {db}: {full['customers']:,} customers / {full['load']['purchases']:,} purchases"
        f" (reference: {rc} customers)",
        "",
        "| segment | count | s | reference count | reference s | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in m["segments"]:
        r = ref_times.get(s["key"])
        mark = " **(> 1 s)**" if s["best_s"] > SLOW else ""
        ratio = f"{s['best_s'] / r['best_s']:.1f}×" if r and r["best_s"] > 0 else "-"
        lines.append(
            f"| {s['key']} | {s['count']:,} | {s['best_s']:.3f}{mark} | "
            f"{r['count']:,} | {r['best_s']:.3f} | {ratio} |" if r else
            f"| {s['key']} | {s['count']:,} | {s['best_s']:.3f}{mark} | - | - | - |")
    lines.append("")

    def refresh_row(name: str, key: str) -> str:
        value = m[key]
        r = ref["measure"][key] if ref else None
        ratio = f"{value / r:.1f}×" if r else "-"
        return f"| {name} | {value:.1f} | {r:.1f} | {ratio} |" if r else \
            f"| {name} | {value:.1f} | - | - |"

    load, rload = full["load"], (ref["load"] if ref else None)
    lines += [
        "| step | s | reference s | ratio |",
        "|---|---:|---:|---:|",
        refresh_row("first refresh of all built-ins (everyone enters)", "refresh_first_s"),
        refresh_row("second refresh (nothing changes)", "refresh_second_s"),
    ]
    if load.get("stats_s") is not None:
        rs = rload.get("stats_s") if rload else None
        ratio = f"{load['stats_s'] / rs:.1f}×" if rs else "-"
        lines.append(f"| stats rebuild (`customer_stats_rebuild`, all customers) | "
                     f"{load['stats_s']:.1f} | {rs:.1f} | {ratio} |" if rs else
                     f"| stats rebuild | {load['stats_s']:.1f} | - | - |")
    lines += [
        f"| bulk load (generate + insert + indexes + analyze) | {load['load_s']:.0f} | "
        f"{rload['load_s']:.0f} | - |" if rload else
        f"| bulk load | {load['load_s']:.0f} | - | - |",
        "",
        f"Memberships after the first refresh: {m['memberships']:,}. Peak RSS of the measuring "
        f"process: {m['peak_rss_mb']:.0f} MB (load process: {load['peak_rss_mb']:.0f} MB"
        f"{'; the PostgreSQL server is a separate process' if db == 'postgres' else ''}).",
        "",
    ]
    text = "\n".join(lines)
    say(text)
    return text


def orchestrate(args: argparse.Namespace) -> None:
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    ref_c = args.reference_customers if args.reference_customers is not None \
        else args.customers // 10
    ref_p = args.reference_purchases if args.reference_purchases is not None \
        else args.purchases // 10
    WORK.mkdir(parents=True, exist_ok=True)
    say(f"segments benchmark: {args.customers:,} customers / {args.purchases:,} purchases, "
        f"reference {ref_c:,} / {ref_p:,}; {os.cpu_count()} CPUs (shared with other work)")
    port = None
    outputs = []
    try:
        for db in dbs:
            if db == "postgres":
                port = pg_start()
                settings = ", ".join(f"{k}={v}" for k, v in PG_SETTINGS.items())
                say(f"PostgreSQL on 127.0.0.1:{port} ({settings})")
            ref = bench_size(db, ref_c, ref_p, args.seed, args.reuse, port) if ref_c else None
            full = bench_size(db, args.customers, args.purchases, args.seed, args.reuse, port)
            outputs.append((db, full, ref))
    finally:
        if port is not None and not args.keep_pg:
            pg_stop()
    say("\n======== results ========\n")
    texts = [report(db, full, ref) for db, full, ref in outputs]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = WORK / f"results-{stamp}-{args.customers}.md"
    out.write_text("\n".join(texts))
    (WORK / f"results-{stamp}-{args.customers}.json").write_text(
        json.dumps([{"db": d, "full": f, "reference": r} for d, f, r in outputs], indent=1))
    say(f"written: {out.relative_to(ROOT)}")


# ---------------------------------------------------------------------------------------------
# Phases (run inside a Django process whose settings point at the benchmark database)


def _setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangol.settings")
    django.setup()


def phase_load(args: argparse.Namespace) -> None:
    _setup_django()
    import datetime as dt
    import sqlite3

    import _segment_data as data
    from django.conf import settings
    from django.db import connection, transaction

    from dangol.customers.models import ConsentEvent, Customer
    from dangol.sales import services as sales_services
    from dangol.sales.models import Product, Purchase, PurchaseLine
    from dangol.sales.services import product_bulk_create
    from dangol.scoring.models import CustomerScore, RunStatus, ScoringRun
    from dangol.shops.models import Shop
    from dangol.shops.services import shop_create, store_create

    marker = Path(settings.DATA_DIR) / "loaded.json"
    rebuild = getattr(sales_services, "customer_stats_rebuild", None)
    started = time.perf_counter()
    if marker.exists():
        info = json.loads(marker.read_text())
        shop = Shop.objects.get(slug=data.SHOP_SLUG)
        if rebuild is not None and info.get("stats_s") is None:
            info["stats_s"] = _stats_rebuild(rebuild, shop, connection)
            marker.write_text(json.dumps(info))
        say(f"data already loaded ({info['purchases']:,} purchases)")
        info["reused"] = True
        info["peak_rss_mb"] = info.get("peak_rss_mb", peak_rss_mb())
        print("RESULT " + json.dumps(info), flush=True)
        return

    shop = shop_create(name="벤치마크 카페", slug=data.SHOP_SLUG, category="cafe")
    stores = [store_create(shop=shop, code=f"s{i}", name=f"{i + 1}호점")
              for i in range(data.N_STORES)]
    products = product_bulk_create(shop=shop, products=[
        Product(sku=f"P{i:03d}", name=name, category=category, price=price)
        for i, (name, category, price) in enumerate(data.PRODUCTS)])
    # One real customer through the model: its encrypted columns are reused for everyone.
    template = Customer.unscoped.create(
        shop=shop, name="김단골", phone="+821012345678", email="dangol@example.com",
        birthday=dt.date(1990, 5, 17), birthday_md=517, created_via="import")
    table = Customer._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f'SELECT name, phone, email, birthday FROM "{table}" WHERE id = %s',  # noqa: S608
                    [template.pk])
        name, phone, email, birthday = cur.fetchone()
        cur.execute(f'DELETE FROM "{table}" WHERE id = %s', [template.pk])  # noqa: S608
    cipher = {"name": name, "phone": phone, "email": email, "birthday": birthday}

    t = time.perf_counter()
    g = data.generate(args.customers, args.purchases, seed=args.seed)
    say(f"generated {int(g['n']):,} customers, {g['owner'].size:,} purchases "
        f"in {time.perf_counter() - t:.1f}s")
    run = ScoringRun.unscoped.create(
        shop=shop, model_version="bench", as_of=data.NOW.date(), started_at=data.NOW,
        finished_at=data.NOW, status=RunStatus.SUCCEEDED, customers_scored=args.customers)

    loader = data.Loader(connection)
    tables = {
        "customers": Customer._meta.db_table,
        "purchases": Purchase._meta.db_table,
        "lines": PurchaseLine._meta.db_table,
        "consents": ConsentEvent._meta.db_table,
        "scores": CustomerScore._meta.db_table,
    }
    ids = {k: loader.next_id(v) for k, v in tables.items()}
    store_ids = [s.pk for s in stores]
    t = time.perf_counter()
    customers = data.customer_frame(g, first_id=ids["customers"], shop_id=shop.pk,
                                    store_ids=store_ids, cipher=cipher)
    purchases, lines = data.purchase_frames(
        g, first_id=ids["purchases"], first_line_id=ids["lines"],
        first_customer_id=ids["customers"], shop_id=shop.pk, store_ids=store_ids,
        products=[(p.pk, p.name, p.category, p.price) for p in products])
    consents = data.consent_frame(g, first_id=ids["consents"],
                                  first_customer_id=ids["customers"], shop_id=shop.pk)
    scores = data.score_frame(g, customers, first_id=ids["scores"], run_id=run.pk,
                              shop_id=shop.pk)
    frames = {"customers": customers, "purchases": purchases, "lines": lines,
              "consents": consents, "scores": scores}
    say(f"frames built in {time.perf_counter() - t:.1f}s: "
        + ", ".join(f"{k} {f.height:,}" for k, f in frames.items()))
    del g
    ScoringRun.unscoped.filter(pk=run.pk).update(customers_scored=scores.height)

    timings: dict[str, float] = {}
    if connection.vendor == "sqlite":
        path = settings.DATABASES["default"]["NAME"]
        connection.close()
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute("PRAGMA cache_size=-1000000")
        loader.raw = raw
        raw.execute("BEGIN")
        for key, frame in frames.items():
            loader.drop_secondary(tables[key])
            timings[key] = loader.write(tables[key], frame)
            say(f"  {key}: {frame.height:,} rows in {timings[key]:.1f}s")
        t = time.perf_counter()
        for key in frames:
            loader.restore_secondary(tables[key])
        raw.execute("COMMIT")
        timings["indexes"] = time.perf_counter() - t
        t = time.perf_counter()
        raw.execute("ANALYZE")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
        timings["analyze"] = time.perf_counter() - t
    else:
        with transaction.atomic():
            for key, frame in frames.items():
                loader.drop_secondary(tables[key])
                timings[key] = loader.write(tables[key], frame)
                say(f"  {key}: {frame.height:,} rows in {timings[key]:.1f}s")
            t = time.perf_counter()
            for key in frames:
                loader.restore_secondary(tables[key])
                loader.reset_sequence(tables[key])
            timings["indexes"] = time.perf_counter() - t
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        timings["analyze"] = time.perf_counter() - t
    say(f"  indexes and constraints re-created in {timings['indexes']:.1f}s, "
        f"analyze in {timings['analyze']:.1f}s")
    info = {
        "customers": args.customers,
        "purchases_target": args.purchases,
        "purchases": purchases.height,
        "seed": args.seed,
        "rows": {k: f.height for k, f in frames.items()},
        "timings": timings,
        "stats_s": None,
    }
    del frames, customers, purchases, lines, consents, scores
    if rebuild is not None:
        info["stats_s"] = _stats_rebuild(rebuild, shop, connection)
    else:
        say("customer_stats_rebuild does not exist in this tree: skipped")
    info["load_s"] = time.perf_counter() - started
    info["peak_rss_mb"] = peak_rss_mb()
    marker.write_text(json.dumps(info))
    print("RESULT " + json.dumps(info), flush=True)


def _stats_rebuild(rebuild, shop, connection) -> float:
    t = time.perf_counter()
    written = rebuild(shop=shop)
    spent = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    say(f"stats rebuild (customer_stats_rebuild, every customer): {written:,} rows in "
        f"{spent:.1f}s")
    return spent


def phase_measure(args: argparse.Namespace) -> None:
    _setup_django()
    import _segment_data as data
    from django.db import connection

    from dangol.segments import services as segment_services
    from dangol.segments.builtins import BUILTINS
    from dangol.segments.engine import context_for, customers_matching
    from dangol.segments.models import Segment, SegmentCount, SegmentMembership
    from dangol.segments.rules import parse_rule
    from dangol.shops.models import Shop

    shop = Shop.objects.get(slug=data.SHOP_SLUG)
    now = data.NOW
    vendor = connection.vendor

    def evaluate(rule) -> int:
        return customers_matching(parse_rule(rule), context_for(shop=shop, now=now)).count()

    segments = []
    say(f"{'segment':<34} {'count':>10} {'best s':>8}   (runs)")
    for builtin in BUILTINS:
        t = time.perf_counter()
        count = evaluate(builtin.rule)  # warm-up
        warm = time.perf_counter() - t
        times = []
        for _ in range(1 if warm > ONCE_AFTER else 3):
            t = time.perf_counter()
            evaluate(builtin.rule)
            times.append(time.perf_counter() - t)
        best = min(times)
        entry = {"key": builtin.key, "count": count, "best_s": best, "times": times}
        flag = "  > 1 s" if best > SLOW else ""
        say(f"{builtin.key:<34} {count:>10,} {best:>8.3f}   "
            f"({', '.join(f'{x:.3f}' for x in times)}){flag}")
        if best > SLOW:
            qs = customers_matching(parse_rule(builtin.rule), context_for(shop=shop, now=now))
            entry["sql"] = str(qs.query)
            entry["plan"] = (qs.explain(analyze=True) if vendor == "postgresql"
                             else qs.explain())
            say("  SQL: " + entry["sql"])
            say("  plan:\n    " + entry["plan"].replace("\n", "\n    "))
        segments.append(entry)

    # Refresh: start from no segments at all, so the first refresh is really the first.
    with connection.cursor() as cur:
        for model in (SegmentMembership, SegmentCount, Segment):
            table = model._meta.db_table  # a model's own table name, not input
            cur.execute(f'DELETE FROM "{table}" WHERE shop_id = %s', [shop.pk])  # noqa: S608
    per_segment: dict[str, list] = {}
    original = segment_services.segment_refresh

    def timed_refresh(*, segment, now=None):
        t = time.perf_counter()
        entered, exited = original(segment=segment, now=now)
        per_segment.setdefault(segment.builtin_key or segment.name, []).append(
            [time.perf_counter() - t, entered, exited])
        return entered, exited

    segment_services.segment_refresh = timed_refresh
    try:
        t = time.perf_counter()
        n = segment_services.shop_segments_refresh(shop=shop, now=now)
        first = time.perf_counter() - t
        memberships = SegmentMembership.objects.for_shop(shop).count()
        say(f"first refresh of {n} segments: {first:.1f}s ({memberships:,} memberships)")
        t = time.perf_counter()
        segment_services.shop_segments_refresh(shop=shop, now=now)
        second = time.perf_counter() - t
        say(f"second refresh (nothing changes): {second:.1f}s")
    finally:
        segment_services.segment_refresh = original
    say("per segment (first s / second s, entered on first): " + ", ".join(
        f"{k} {v[0][0]:.1f}/{v[1][0]:.1f} +{v[0][1]:,}" for k, v in per_segment.items()))
    result = {
        "segments": segments,
        "refresh_first_s": first,
        "refresh_second_s": second,
        "refresh_per_segment": per_segment,
        "memberships": memberships,
        "peak_rss_mb": peak_rss_mb(),
    }
    say(f"peak RSS of this process: {result['peak_rss_mb']:.0f} MB")
    print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=10_000_000)
    parser.add_argument("--reference-customers", type=int, default=None,
                        help="size of the reference shop (default: a tenth; 0: none)")
    parser.add_argument("--reference-purchases", type=int, default=None)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true",
                        help="keep data already loaded with the same sizes and seed")
    parser.add_argument("--keep-pg", action="store_true",
                        help="leave the benchmark PostgreSQL server running")
    parser.add_argument("--phase", choices=("load", "measure"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "load":
        phase_load(args)
    elif args.phase == "measure":
        phase_measure(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
