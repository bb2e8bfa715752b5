"""Synthetic shop data for bench_segments.py, generated with numpy and loaded with raw bulk SQL.

Nothing here goes through the per-row services: the shop, its stores and products are created
with the normal services, one customer is saved through the model so that the encrypted columns
(name, phone, e-mail, birthday) hold a real ciphertext, and that ciphertext is then reused for
every customer (segments never decrypt). Customers, purchases, purchase lines, consent events,
a succeeded scoring run and one score per customer are then written with ``executemany`` in one
transaction (SQLite) or ``COPY`` (PostgreSQL), with the tables' secondary indexes and
constraints dropped during the load and re-created afterwards.

The shape of the data: about 18 months of history ending at ``NOW``; customers join throughout
the period; 18 % come once; about 45 % stop coming at some point; the others keep coming at
customer-specific rates (gamma-distributed), so visit counts are Poisson-ish with a long tail
and a mean of ``purchases / customers``; 3 % come only in summer (June to August). Birthdays
(MMDD) for 70 % of customers, 10 % of those lunar; consent events for 60 %; one score per
customer with a realistic mix of status, RFM group, churn probability, habit weekday, etc.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

SEOUL = ZoneInfo("Asia/Seoul")
# The moment the benchmark evaluates segments at (fixed so that runs are comparable).
NOW = dt.datetime(2025, 7, 15, 22, 30, tzinfo=SEOUL)
DAYS = 548  # about 18 months, the last one being NOW's day
FIRST_DAY = NOW.date() - dt.timedelta(days=DAYS - 1)
SHOP_SLUG = "bench-segments"
N_STORES = 5
CHUNK = 500_000

PRODUCTS = [
    ("아메리카노", "커피", 4500), ("카페라떼", "커피", 5000), ("바닐라라떼", "커피", 5500),
    ("콜드브루", "커피", 5000), ("카푸치노", "커피", 5000), ("플랫화이트", "커피", 5500),
    ("녹차라떼", "음료", 5500), ("자몽에이드", "음료", 6000), ("레몬에이드", "음료", 6000),
    ("밀크티", "음료", 5500), ("딸기스무디", "음료", 6500), ("핫초코", "음료", 5000),
    ("크루아상", "베이커리", 3800), ("소금빵", "베이커리", 3500), ("스콘", "베이커리", 3500),
    ("치즈케이크", "디저트", 6500), ("티라미수", "디저트", 7000), ("마카롱", "디저트", 2500),
    ("샌드위치", "식사", 7500), ("샐러드", "식사", 8500), ("원두 200g", "상품", 16000),
    ("텀블러", "상품", 25000), ("드립백 세트", "상품", 12000), ("빙수", "시즌", 11000),
]


@dataclass
class Generated:
    customers: pl.DataFrame  # per-customer facts (index = position)
    purchases: pl.DataFrame
    lines: pl.DataFrame
    consents: pl.DataFrame
    scores: pl.DataFrame


def _epoch_seconds(day: dt.date) -> int:
    """Seconds since 1970 (UTC) of the start of this Seoul day."""
    return int(dt.datetime.combine(day, dt.time.min, SEOUL).timestamp())


def generate(customers: int, purchases: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Arrays describing customers and their purchases (no database ids yet)."""
    rng = np.random.default_rng(seed)
    n = customers
    today = DAYS - 1
    one_timer = rng.random(n) < 0.18
    summer = ~one_timer & (rng.random(n) < 0.03)
    join = rng.integers(0, DAYS, n)
    lapses = rng.random(n) < 0.45
    stop = np.where(lapses, join + rng.exponential(150.0, n), today).astype(np.int64)
    stop = np.clip(stop, join, today)
    span = stop - join + 1
    # Extra visits beyond the first: Poisson with a gamma-distributed daily rate, scaled so that
    # the total comes out near `purchases`.
    summer_visits = np.where(summer, 2 + rng.poisson(3.0, n), 0)
    regular = ~one_timer & ~summer
    weight = rng.gamma(1.2, 1.0, n) * regular
    budget = max(purchases - n - int(summer_visits.sum()) + int(summer.sum()), 0)
    rate = weight * budget / max(float((weight * span).sum()), 1.0)
    rate = np.minimum(rate, 1.0)
    extra = rng.poisson(rate * span)
    visits = np.where(summer, summer_visits, 1 + np.where(regular, extra, 0)).astype(np.int64)

    total = int(visits.sum())
    owner = np.repeat(np.arange(n), visits)
    k = np.arange(total) - np.repeat(np.cumsum(visits) - visits, visits)
    day = join[owner] + (rng.random(total) * span[owner]).astype(np.int64)
    day = np.where(k == 0, join[owner], day)
    # Summer-only customers: every visit on a June-August day of the period.
    all_days = np.array([FIRST_DAY + dt.timedelta(days=d) for d in range(DAYS)])
    summer_days = np.array([i for i, d in enumerate(all_days) if d.month in (6, 7, 8)])
    is_summer_row = summer[owner]
    day[is_summer_row] = rng.choice(summer_days, int(is_summer_row.sum()))
    # A summer customer's first visit is their earliest summer day.
    first_day = np.full(n, DAYS, dtype=np.int64)
    np.minimum.at(first_day, owner, day)
    join = np.where(summer, first_day, join)

    # Local time of day: 08:00-21:59, busier around noon and 18:00.
    hour = np.clip(np.round(rng.normal(14.5, 3.2, total)), 8, 21).astype(np.int64)
    second = hour * 3600 + rng.integers(0, 3600, total)
    at = _epoch_seconds(FIRST_DAY) + day * 86400 + second
    # Stores: the customer's home store 85 % of the time.
    home = rng.integers(0, N_STORES, n)
    store = np.where(rng.random(total) < 0.85, home[owner], rng.integers(0, N_STORES, total))
    # Tickets: a customer-level typical spend times per-visit noise, in 100-won steps.
    typical = rng.lognormal(np.log(9000.0), 0.5, n)
    ticket = typical[owner] * rng.lognormal(0.0, 0.35, total)
    ticket = np.maximum(np.round(ticket / 100.0) * 100, 1500).astype(np.int64)
    u = rng.random(total)
    status = np.select(
        [u < 0.015, u < 0.025, u < 0.04], ["refunded", "partially_refunded", "cancelled"], "paid"
    )
    discount = np.where(rng.random(total) < 0.1, rng.integers(5, 21, total) * 100, 0)
    # Purchases in time order, as a POS would send them.
    order = np.argsort(at, kind="stable")
    return {
        "n": np.array(n),
        "join": join,
        "summer": summer,
        "home": home,
        "owner": owner[order],
        "day": day[order],
        "at": at[order],
        "store": store[order],
        "total": ticket[order],
        "status": status[order],
        "discount": discount[order],
    }


def customer_frame(g: dict[str, np.ndarray], *, first_id: int, shop_id: int, store_ids: list[int],
                   cipher: dict[str, str | None], seed: int = 11) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = int(g["n"])
    ids = np.arange(first_id, first_id + n)
    has_birthday = rng.random(n) < 0.7
    lunar = has_birthday & (rng.random(n) < 0.1)
    leap = lunar & (rng.random(n) < 0.02)
    # Solar MMDD from the days of a leap year; lunar MMDD from 12 months of 30 days.
    leap_year = np.array([dt.date(2024, 1, 1) + dt.timedelta(days=d) for d in range(366)])
    solar_md = np.array([d.month * 100 + d.day for d in leap_year])[rng.integers(0, 366, n)]
    lunar_md = rng.integers(1, 13, n) * 100 + rng.integers(1, 31, n)
    md = np.where(lunar, lunar_md, solar_md)
    # 0.5 % of customers were merged into another (non-merged) customer.
    merged = rng.random(n) < 0.005
    targets = np.flatnonzero(~merged)
    merged_into = np.where(merged, ids[targets[rng.integers(0, targets.size, n)]], 0)
    created = _epoch_seconds(FIRST_DAY) + g["join"] * 86400 + 8 * 3600
    gender = np.array(["", "F", "M"])[rng.integers(0, 3, n)]
    return pl.DataFrame(
        {
            "id": ids,
            "shop_id": np.full(n, shop_id),
            "name": [cipher["name"]] * n,
            "phone": [cipher["phone"]] * n,
            "email": [cipher["email"]] * n,
            "birthday": pl.Series([cipher["birthday"]] * n, dtype=pl.Utf8),
            # Distinct placeholder blind indexes (the real ones are keyed hashes of the phone).
            "phone_bidx": [f"{i:016x}" for i in ids.tolist()],
            "email_bidx": [""] * n,
            "search_tokens": [""] * n,
            "birthday_calendar": np.where(lunar, "lunar", "solar"),
            "birthday_leap_month": leap,
            "birthday_md": md,
            "gender": gender,
            "created_via": ["import"] * n,
            "home_store_id": np.array(store_ids)[g["home"]],
            "merged_into_id": merged_into,
            "created_at": created,
        }
    ).with_columns(
        pl.when(pl.Series(has_birthday)).then(pl.col("birthday")).otherwise(None),
        pl.when(pl.Series(has_birthday)).then(pl.col("birthday_md")).otherwise(None),
        pl.when(pl.col("merged_into_id") > 0).then(pl.col("merged_into_id")).otherwise(None),
        _ts("created_at"),
    )


def _ts(column: str) -> pl.Expr:
    """Epoch seconds to a UTC datetime."""
    return pl.from_epoch(pl.col(column), time_unit="s").dt.replace_time_zone("UTC").alias(column)


def purchase_frames(g: dict[str, np.ndarray], *, first_id: int, first_line_id: int,
                    first_customer_id: int, shop_id: int, store_ids: list[int],
                    products: list[tuple[int, str, str, int]], seed: int = 13
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    total = g["owner"].size
    ids = np.arange(first_id, first_id + total)
    purchases = pl.DataFrame(
        {
            "id": ids,
            "shop_id": np.full(total, shop_id),
            "store_id": np.array(store_ids)[g["store"]],
            "customer_id": g["owner"] + first_customer_id,
            "source": pl.repeat("pos", total, eager=True),
            "external_id": pl.Series(ids).cast(pl.Utf8),
            "occurred_at": g["at"],
            "total": g["total"],
            "discount": g["discount"],
            "status": g["status"],
            "created_at": g["at"],
        }
    ).with_columns(_ts("occurred_at"), _ts("created_at"))
    # One line per purchase, a second one for a quarter of them; amounts add up to the total.
    two = rng.random(total) < 0.25
    first_amount = np.where(two, np.round(g["total"] * 0.6 / 100) * 100, g["total"]).astype(
        np.int64)
    line_purchase = np.concatenate([ids, ids[two]])
    line_amount = np.concatenate([first_amount, (g["total"] - first_amount)[two]])
    product_pick = rng.integers(0, len(products), line_purchase.size)
    product_ids = np.array([p[0] for p in products])
    product_names = np.array([p[1] for p in products])
    n_lines = line_purchase.size
    lines = pl.DataFrame(
        {
            "id": np.arange(first_line_id, first_line_id + n_lines),
            "shop_id": np.full(n_lines, shop_id),
            "purchase_id": line_purchase,
            "product_id": product_ids[product_pick],
            "name": product_names[product_pick],
            "quantity": np.ones(n_lines, dtype=np.int64),
            "unit_price": line_amount,
            "amount": line_amount,
        }
    )
    return purchases, lines


def consent_frame(g: dict[str, np.ndarray], *, first_id: int, first_customer_id: int,
                  shop_id: int, seed: int = 17) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = int(g["n"])
    cust = np.flatnonzero(rng.random(n) < 0.6)
    joined = _epoch_seconds(FIRST_DAY) + g["join"] * 86400 + 9 * 3600
    parts = []

    def add(who, kind, granted, source, at):
        parts.append(pl.DataFrame({
            "customer_id": who + first_customer_id,
            "kind": [kind] * who.size,
            "granted": np.full(who.size, granted),
            "source": [source] * who.size,
            "occurred_at": at,
        }))

    add(cust, "pipa_collection", True, "tablet", joined[cust])
    for kind, share in (("pipa_marketing", 0.6), ("ad_sms", 0.7), ("ad_kakao", 0.5),
                        ("ad_email", 0.2), ("ad_night", 0.1)):
        who = cust[rng.random(cust.size) < share]
        add(who, kind, True, "tablet", joined[who] + 60)
        # Some later opt out (080 number or unsubscribe link), a few opt in again after that.
        out = who[rng.random(who.size) < 0.15]
        out_at = np.minimum(joined[out] + rng.integers(1, 300, out.size) * 86400,
                            _epoch_seconds(NOW.date()))
        add(out, kind, False, "080", out_at)
        back = out[rng.random(out.size) < 0.2]
        back_at = np.minimum(out_at[np.searchsorted(out, back)] + 30 * 86400,
                             _epoch_seconds(NOW.date()) + 3600)
        add(back, kind, True, "staff", back_at)
    frame = pl.concat(parts).sort("occurred_at")
    m = frame.height
    return frame.with_columns(
        pl.Series("id", np.arange(first_id, first_id + m)),
        pl.lit(shop_id).alias("shop_id"),
        pl.lit("v1").alias("wording_version"),
        pl.lit("").alias("evidence"),
        pl.lit(None, dtype=pl.Int64).alias("actor_id"),
        pl.lit(None, dtype=pl.Utf8).alias("ip_address"),
        pl.lit("").alias("device"),
        pl.col("occurred_at").alias("recorded_at"),
    ).with_columns(_ts("occurred_at"), _ts("recorded_at"))


def score_frame(g: dict[str, np.ndarray], customers: pl.DataFrame, *, first_id: int, run_id: int,
                shop_id: int, seed: int = 19) -> pl.DataFrame:
    """One score per customer not merged away, derived from the generated purchases."""
    rng = np.random.default_rng(seed)
    n = int(g["n"])
    today = DAYS - 1
    paid = g["status"] == "paid"
    owner = np.where(paid, g["owner"], n)  # non-paid rows go to a dummy bucket
    visits = np.bincount(owner, minlength=n + 1)[:n]
    spend = np.bincount(owner, weights=g["total"], minlength=n + 1)[:n].astype(np.int64)
    first = np.full(n + 1, DAYS, dtype=np.int64)
    last = np.full(n + 1, -1, dtype=np.int64)
    np.minimum.at(first, owner, g["day"])
    np.maximum.at(last, owner, g["day"])
    first, last = first[:n], last[:n]
    # Customers whose only purchases were refunded: take the join day.
    none = visits == 0
    first = np.where(none, g["join"], first)
    last = np.where(none, g["join"], last)
    days_since = today - last
    gap = np.where(visits >= 2, (last - first) / np.maximum(visits - 1, 1), np.nan)
    safe_gap = np.where(np.isnan(gap), 30.0, np.maximum(gap, 1.0))
    habit = (visits >= 4) & (rng.random(n) < 0.4)
    habit_weekday = np.where(habit, rng.integers(1, 8, n), 0)
    overdue = days_since / safe_gap
    seasonal = g["summer"]
    status = np.select(
        [
            seasonal,
            (today - first < 30) & (visits <= 2),
            days_since > 180,
            (visits >= 5) & (days_since > 60) & (overdue > 3),
            habit & (days_since > 14) & (days_since <= 60) & (rng.random(n) < 0.5),
            overdue > 2,
        ],
        ["seasonal", "new", "dormant", "lapsed", "broken_habit", "at_risk"],
        "active",
    )

    def quintile(x: np.ndarray) -> np.ndarray:
        ranks = np.argsort(np.argsort(x, kind="stable"), kind="stable")
        return (ranks * 5 // max(x.size, 1) + 1).astype(np.int64)

    r = quintile(-days_since)
    f = quintile(visits + rng.random(n) * 0.1)
    m = quintile(spend)
    rfm = np.select(
        [
            (r >= 4) & (f >= 4) & (m >= 4),
            (r >= 3) & (f >= 4),
            (r >= 4) & (f >= 2),
            (r == 5) & (f == 1),
            (r == 4) & (f == 1),
            (r == 3) & (f == 3),
            (r == 3),
            (r <= 2) & (f >= 4) & (m >= 4),
            (r <= 2) & (f >= 3),
            (r == 2),
        ],
        ["champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
         "about_to_sleep", "cant_lose", "at_risk", "hibernating"],
        "lost",
    )
    churn = 1.0 / (1.0 + np.exp(-1.5 * (overdue - 2.0)))
    churn = np.round(np.clip(churn + rng.normal(0, 0.05, n), 0, 1), 4)
    p_alive = np.round(1 - 0.9 * churn, 4)
    per_visit = (spend / np.maximum(visits, 1)).astype(np.int64)
    expected = np.round(90.0 / safe_gap * p_alive, 3)
    keep = customers["merged_into_id"].is_null().to_numpy()
    idx = np.flatnonzero(keep)
    k = idx.size
    day0 = np.datetime64(FIRST_DAY.isoformat(), "D")
    return pl.DataFrame(
        {
            "id": np.arange(first_id, first_id + k),
            "shop_id": np.full(k, shop_id),
            "run_id": np.full(k, run_id),
            "customer_id": customers["id"].to_numpy()[idx],
            "computed_at": np.full(k, int(NOW.timestamp())),
            "model_version": ["bench"] * k,
            "status": status[idx],
            "visits": visits[idx],
            "first_visit": day0 + first[idx],
            "last_visit": day0 + last[idx],
            "days_since_last": days_since[idx],
            "total_spend": spend[idx],
            "spend_per_visit": per_visit[idx],
            "r_score": r[idx],
            "f_score": f[idx],
            "m_score": m[idx],
            "rfm_segment": rfm[idx],
            "p_alive": p_alive[idx],
            "expected_visits_90d": expected[idx],
            "clv": (per_visit * expected * 4).astype(np.int64)[idx],
            "churn_probability": churn[idx],
            "value_at_risk": (churn * per_visit * expected).astype(np.int64)[idx],
            "typical_gap_days": np.round(gap, 2)[idx],
            "overdue_ratio": np.where(np.isnan(gap), np.nan, np.round(overdue, 3))[idx],
            "expected_next_visit": day0 + (last + np.round(safe_gap).astype(np.int64))[idx],
            "habit_weekday": habit_weekday[idx],
            "habit_hour": np.where(habit, rng.integers(8, 22, n), 0)[idx],
            "broken_habit": (status == "broken_habit")[idx],
            "seasonal": seasonal[idx],
            "season_start_month": np.where(seasonal, 6, 0)[idx],
            "reasons": ["[]"] * k,
            "action_ko": [""] * k,
            "action_en": [""] * k,
        }
    ).with_columns(
        _ts("computed_at"),
        pl.col("typical_gap_days").fill_nan(None),
        pl.col("overdue_ratio").fill_nan(None),
        pl.when(pl.col("typical_gap_days").is_null()).then(None)
        .otherwise(pl.col("expected_next_visit")).alias("expected_next_visit"),
        *(pl.when(pl.col(c) == 0).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("habit_weekday", "habit_hour", "season_start_month")),
    )


# ---------------------------------------------------------------------------------------------
# Loading


def _for_sqlite(frame: pl.DataFrame) -> pl.DataFrame:
    """Values as Django's SQLite backend stores them: UTC text datetimes, 0/1 booleans."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            out.append(col.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S"))
        elif dtype == pl.Date:
            out.append(col.dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            out.append(col.cast(pl.Int8))
        else:
            out.append(col)
    return frame.select(out)


def _for_postgres_csv(frame: pl.DataFrame) -> bytes:
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            out.append(col.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S+00"))
        else:
            out.append(col)
    buf = io.BytesIO()
    frame.select(out).write_csv(buf, include_header=False, null_value="\\N")
    return buf.getvalue()


class Loader:
    """Bulk writes into Django's tables on the current connection's database."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.vendor = connection.vendor
        self.saved: dict[str, list[str]] = {}
        self.raw = None

    # -- index handling ------------------------------------------------------------------------
    def drop_secondary(self, table: str) -> None:
        """Drop the table's secondary indexes (and, on PostgreSQL, unique and foreign-key
        constraints) and remember how to create them again."""
        statements: list[str] = []
        if self.vendor == "sqlite":
            cur = self.raw.cursor()
            rows = cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? "
                "AND sql IS NOT NULL", (table,)).fetchall()
            for name, sql in rows:
                cur.execute(f'DROP INDEX "{name}"')
                statements.append(sql)
        else:
            with self.connection.cursor() as cur:
                cur.execute(
                    "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')", [table])
                constraints = cur.fetchall()
                for name, _definition, _kind in constraints:
                    cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                cur.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                    "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
                    "i.indexrelid)", [table])
                for name, definition in cur.fetchall():
                    cur.execute(f"DROP INDEX {name}")
                    statements.append(definition)
                # Unique constraints first (indexes), foreign keys last.
                for kind in ("u", "f"):
                    statements += [
                        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                        for name, definition, contype in constraints if contype == kind
                    ]
        self.saved[table] = statements

    def restore_secondary(self, table: str) -> None:
        statements = self.saved.pop(table, [])
        if self.vendor == "sqlite":
            cur = self.raw.cursor()
            for sql in statements:
                cur.execute(sql)
        else:
            with self.connection.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)

    # -- writing -------------------------------------------------------------------------------
    def write(self, table: str, frame: pl.DataFrame) -> float:
        start = time.perf_counter()
        columns = frame.columns
        if self.vendor == "sqlite":
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608
            cur = self.raw.cursor()
            for offset in range(0, frame.height, CHUNK):
                part = _for_sqlite(frame.slice(offset, CHUNK))
                cur.executemany(sql, part.rows())
        else:
            names = ", ".join(f'"{c}"' for c in columns)
            copy = f"COPY \"{table}\" ({names}) FROM STDIN (FORMAT csv, NULL '\\N')"
            with self.connection.cursor() as cur, cur.cursor.copy(copy) as pipe:
                for offset in range(0, frame.height, CHUNK):
                    pipe.write(_for_postgres_csv(frame.slice(offset, CHUNK)))
        return time.perf_counter() - start

    def next_id(self, table: str) -> int:
        with self.connection.cursor() as cur:
            cur.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')  # noqa: S608
            return int(cur.fetchone()[0])

    def reset_sequence(self, table: str) -> None:
        if self.vendor == "postgresql":
            with self.connection.cursor() as cur:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                    f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))')
        # SQLite's AUTOINCREMENT continues after the largest id present: nothing to do.
