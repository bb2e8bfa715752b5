"""Time of importing a POS purchase export into SQLite, against references from the same run.

    .venv/bin/python benchmarks/bench_import.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/bench_import.py --rows 200000

A fresh SQLite database under var/bench-import/ gets two shops. A CSV like a Korean POS
export (receipt number, time, phone, menu item, quantity, unit price, amount; one row per
purchase, one customer per ~20 rows) is written at the requested size and at a tenth of it.
Timed: a plain ``csv.reader`` pass over the big file (the floor: reading the bytes at all),
the product's ``import_run`` of the small file into one shop and of the big file into the
other (everything: decoding, mapping, parsing, customer matching and creation, purchases,
lines, per-customer totals, one transaction). Printed: seconds, rows/s, the process's CPU
seconds for each (on a shared machine the wall clock also counts other programs' turns), the
load average before and after, and the ratios import / csv read and big / small (10x =
linear). Goal: 1,000,000 rows in ≤ 60 s. This is a benchmark, not a test: nothing here runs in
CI.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
WORK = ROOT / "var" / "bench-import"
GOAL = 60.0
MENU = [
    ("아메리카노", 4500),
    ("카페라떼", 5000),
    ("바닐라라떼", 5500),
    ("크루아상", 3800),
    ("치즈케이크", 6500),
    ("아이스티", 4000),
]


def make_csv(rows: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    customers = max(rows // 20, 1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["영수증번호", "거래일시", "휴대폰", "메뉴", "수량", "단가", "결제금액"])
    for n in range(rows):
        c = rnd.randrange(customers)
        phone = f"010-{2000 + c % 3900:04d}-{(c // 3900) % 10000:04d}" if rnd.random() < 0.8 else ""
        name, price = MENU[rnd.randrange(len(MENU))]
        qty = rnd.randint(1, 3)
        day = rnd.randrange(730)
        clock = f"{8 + n % 13:02d}:{n % 60:02d}:{day % 60:02d}"
        when = f"2024-{1 + day % 12:02d}-{1 + day % 28:02d} {clock}"
        writer.writerow(
            [f"S{seed}-{n:08d}", when, phone, name, qty, f"{price:,}", f"{price * qty:,}원"]
        )
    return out.getvalue().encode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["DANGOL_DATA_DIR"] = str(WORK)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangol.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from dangol.core.tenancy import shop_scope
    from dangol.imports.services import import_run
    from dangol.shops.services import shop_create, store_create

    call_command("migrate", verbosity=0)
    small_rows = max(args.rows // 10, 1)
    big, small = make_csv(args.rows, 1), make_csv(small_rows, 2)
    print(f"file: {args.rows:,} rows, {len(big) / 1e6:.1f} MB; reference {small_rows:,} rows")

    start = time.perf_counter()
    n = sum(1 for _ in csv.reader(io.StringIO(big.decode("utf-8"))))
    t_csv = time.perf_counter() - start
    assert n == args.rows + 1

    cpu: dict[str, float] = {}

    def timed(slug: str, data: bytes) -> tuple[float, dict]:
        shop = shop_create(name=slug, slug=slug, category="cafe")
        store_create(shop=shop, code="main", name="본점")
        with shop_scope(shop):
            begin, begin_cpu = time.perf_counter(), time.process_time()
            run = import_run(shop=shop, kind="purchases", data=data, file_name=f"{slug}.csv")
            elapsed = time.perf_counter() - begin
            cpu[slug] = time.process_time() - begin_cpu
        assert run.status == "imported", run.report["problems"][:3]
        return elapsed, run.counts

    load_before = os.getloadavg()
    t_small, _ = timed("bench-small", small)
    t_big, counts = timed("bench-big", big)
    load_after = os.getloadavg()
    print(f"csv.reader pass (reference)   {t_csv:8.2f} s")
    print(
        f"import {small_rows:>9,} rows     {t_small:8.2f} s  {small_rows / t_small:9,.0f} rows/s"
        f"  (cpu {cpu['bench-small']:.2f} s)"
    )
    print(
        f"import {args.rows:>9,} rows     {t_big:8.2f} s  {args.rows / t_big:9,.0f} rows/s"
        f"  (cpu {cpu['bench-big']:.2f} s)"
    )
    print(
        "load average (1, 5, 15 min) before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f} "
        "on {} CPUs".format(*load_before, *load_after, os.cpu_count())
    )
    print(
        f"ratio import / csv read: {t_big / t_csv:.1f}x;  big / small: {t_big / t_small:.1f}x "
        f"(rows {args.rows / small_rows:.0f}x)"
    )
    print(
        f"written: {counts.get('purchases_created', 0):,} purchases, "
        f"{counts.get('lines_created', 0):,} lines, {counts.get('customers_created', 0):,} "
        f"customers, totals of {counts.get('customers_touched', 0):,}"
    )
    if args.rows >= 1_000_000:
        verdict = "met" if t_big <= GOAL else "NOT met"
        print(f"goal 1,000,000 rows ≤ {GOAL:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
