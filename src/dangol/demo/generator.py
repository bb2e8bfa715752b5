"""Generate the demo café "단골커피": two Seoul stores, a menu, customers with planted habits,
18 months of POS sales and the ground truth the analytics are expected to rediscover.

Pure Python + numpy: the loader that writes this into the database lives elsewhere.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import numpy as np

from . import menu
from .habits import (
    FAMILY,
    NORMAL,
    PATTERN_SHARES,
    PATTERNS,
    STORE_CODES,
    TRAFFIC_HOUR_WEIGHTS,
    plant_habits,
)
from .habits import allocate_patterns as _allocate_patterns
from .models import (
    CONSENT_KINDS,
    DemoConsent,
    DemoCustomer,
    DemoDataset,
    DemoLine,
    DemoProduct,
    DemoPurchase,
    DemoStore,
)
from .people import PeopleFactory, unique_phones
from .timeline import KST, Timeline, shift_months

__all__ = [
    "CONSENT_KINDS",
    "PATTERNS",
    "PATTERN_SHARES",
    "WALK_IN_SHARE",
    "DemoConsent",
    "DemoCustomer",
    "DemoDataset",
    "DemoLine",
    "DemoProduct",
    "DemoPurchase",
    "DemoStore",
    "generate_demo",
    "ground_truth_json",
]

WALK_IN_SHARE = 0.30  # anonymous sales as a share of all purchases
DISCOUNT_RATE = 0.04
REFUND_RATE = 0.01


def _root_rng(seed: int) -> np.random.Generator:
    entropy = seed if seed >= 0 else [0x5EED, -seed]
    return np.random.default_rng(entropy)


def _walk_ins(rng: np.random.Generator, tl: Timeline, n: int) -> dict[str, np.ndarray]:
    """Anonymous sales: weekday offices in Gangnam, weekend crowds in Seongsu, summer peak."""
    t = np.arange(tl.n_days) / max(tl.n_days - 1, 1)
    season = np.where(tl.summer, 1.2, 1.0) * np.where(tl.month == 12, 1.1, 1.0)
    base = season * (0.9 + 0.2 * t)  # the shop grows a little
    weekend = tl.weekday >= 5
    w = np.stack(
        [
            0.55 * base * np.where(weekend, 0.55, 1.15),
            0.45 * base * np.where(weekend, 1.6, 0.85),
        ]
    )
    w[:, tl.closed] = 0.0
    flat = rng.choice(w.size, size=n, p=(w / w.sum()).ravel())
    store, day = np.divmod(flat, tl.n_days)
    minute = np.zeros(n, dtype=np.int64)
    for s in (0, 1):
        sel = store == s
        hw = TRAFFIC_HOUR_WEIGHTS[s]
        minute[sel] = rng.choice(np.arange(8, 22), size=int(sel.sum()), p=hw / hw.sum()) * 60
    minute += rng.integers(0, 60, n)
    kind = np.where((store == 1) & weekend[day] & (rng.random(n) < 0.15), FAMILY, NORMAL)
    return {
        "customer": np.full(n, -1, dtype=np.int64),
        "day": day.astype(np.int64),
        "minute": minute,
        "store": store.astype(np.int64),
        "kind": kind.astype(np.int64),
    }


def _discounts(rng: np.random.Generator, subtotal: np.ndarray, known: np.ndarray) -> np.ndarray:
    """A few percent of sales are discounted: 10 % membership, 1,000원 coupon, stamp drink."""
    n = subtotal.size
    has = rng.random(n) < DISCOUNT_RATE
    kind = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    kind = np.where((kind == 2) & ~known, 0, kind)  # stamp cards need a customer
    amount = np.select(
        [kind == 0, kind == 1],
        [(subtotal // 10) // 100 * 100, np.full(n, 1000)],
        np.full(n, 4500),
    )
    return np.where(has, np.minimum(amount, subtotal), 0).astype(np.int64)


def generate_demo(
    *,
    customers: int = 2000,
    months: int = 18,
    seed: int = 42,
    end: date,
    progress: Callable[[int, int], None] | None = None,
) -> DemoDataset:
    """Build the whole demo dataset; identical arguments give an identical dataset."""
    if customers < 0:
        raise ValueError("customers must be >= 0")
    if months < 1:
        raise ValueError("months must be >= 1")
    if isinstance(end, datetime) or not isinstance(end, date):
        raise TypeError("end must be a datetime.date")
    start = shift_months(end + timedelta(days=1), -months)
    tl = Timeline.build(start, end)
    habit_rng, walkin_rng, basket_rng, people_rng = _root_rng(seed).spawn(4)

    # 1. habits and visits ---------------------------------------------------------------
    patterns = _allocate_patterns(customers, habit_rng, tl)
    plans, cols = plant_habits(patterns, habit_rng, tl, progress)
    n_known = cols["day"].size
    n_walk = round(n_known * WALK_IN_SHARE / (1 - WALK_IN_SHARE))
    walk = _walk_ins(walkin_rng, tl, n_walk)
    cols = {k: np.concatenate([cols[k], walk[k]]) for k in cols}
    n = cols["day"].size
    second = cols["minute"] * 60 + walkin_rng.integers(0, 60, n)
    order = np.lexsort((np.arange(n), second, cols["day"]))
    cols = {k: v[order] for k, v in cols.items()}
    second = second[order]
    customer, day, store = cols["customer"], cols["day"], cols["store"]

    # 2. baskets, discounts, refunds -----------------------------------------------------
    fav_of_customer = menu.favourite_drinks(basket_rng, customers)
    favourite = (
        np.where(customer >= 0, fav_of_customer[np.maximum(customer, 0)], -1)
        if customers
        else np.full(n, -1)
    )
    line_p, line_item, line_q = menu.build_baskets(
        basket_rng, tl.month[day], cols["minute"], cols["kind"], favourite
    )
    subtotal = np.bincount(line_p, weights=line_q * menu.PRICES[line_item], minlength=n)
    subtotal = subtotal.astype(np.int64)
    discount = _discounts(basket_rng, subtotal, customer >= 0)
    refunded = basket_rng.random(n) < REFUND_RATE

    # 3. purchases -----------------------------------------------------------------------
    seq = np.zeros(n, dtype=np.int64)
    for s in range(len(STORE_CODES)):
        sel = store == s
        seq[sel] = np.arange(1, int(sel.sum()) + 1)
    when = tl.to_utc(day, second)
    bounds = np.searchsorted(line_p, np.arange(n + 1))
    line_cache: dict[tuple[int, int], DemoLine] = {}

    def line(item: int, q: int) -> DemoLine:
        key = (item, q)
        if key not in line_cache:
            line_cache[key] = DemoLine(menu.SKUS[item], q, int(menu.PRICES[item]))
        return line_cache[key]

    items_l, qty_l = line_item.tolist(), line_q.tolist()
    keys = [f"C{c + 1:05d}" for c in range(customers)]
    purchases = []
    for i, (c, s, sq, b0, b1, sub, disc, ref) in enumerate(
        zip(
            customer.tolist(),
            store.tolist(),
            seq.tolist(),
            bounds[:-1].tolist(),
            bounds[1:].tolist(),
            subtotal.tolist(),
            discount.tolist(),
            refunded.tolist(),
            strict=True,
        )
    ):
        code = STORE_CODES[s]
        purchases.append(
            DemoPurchase(
                external_id=f"POS-{code}-{sq:06d}",
                customer_key=keys[c] if c >= 0 else None,
                store_code=code,
                occurred_at=when[i],
                lines=tuple(line(items_l[j], qty_l[j]) for j in range(b0, b1)),
                discount=disc,
                total=sub - disc,
                status="refunded" if ref else "paid",
            )
        )

    # 4. customers -----------------------------------------------------------------------
    known = customer >= 0
    first_idx = np.full(customers, -1, dtype=np.int64)
    last_idx = np.full(customers, -1, dtype=np.int64)
    counts = np.bincount(customer[known], minlength=customers) if customers else np.zeros(0)
    idx_known = np.flatnonzero(known)
    # purchases are sorted by time: the first/last occurrence per customer
    first_idx[customer[idx_known[::-1]]] = idx_known[::-1]
    last_idx[customer[idx_known]] = idx_known
    people = PeopleFactory(people_rng, end)
    phones = unique_phones(people_rng, customers)
    end_at = datetime(end.year, end.month, end.day, 22, 0, tzinfo=KST).astimezone(UTC)
    out_customers = []
    gt_customers: dict[str, dict] = {}
    gt_patterns: dict[str, list[str]] = {p: [] for p in PATTERNS}
    for c, plan in enumerate(plans):
        ident = people.identity()
        email = (
            people.email(ident["roman"], ident["birth_year"])
            if people_rng.random() < 0.40
            else None
        )
        if people_rng.random() < 0.70:
            bday, cal, leap = people.birthday(ident["birth_year"])
        else:
            bday, cal, leap = None, "solar", False
        joined_at = when[first_idx[c]]
        consents = people.consents(
            joined_at,
            max(end_at, joined_at),
            email is not None,
            early_joiner=int(day[first_idx[c]]) < 14,
        )
        out_customers.append(
            DemoCustomer(
                key=keys[c],
                name=ident["name"],
                phone=phones[c],
                email=email,
                birthday=bday,
                birthday_calendar=cal,
                birthday_leap_month=leap,
                gender=ident["gender"],
                home_store=STORE_CODES[plan.home_store],
                pattern=plan.pattern,
                joined_at=joined_at,
                consents=consents,
            )
        )
        last_day = tl.day(int(day[last_idx[c]]))
        gt_patterns[plan.pattern].append(keys[c])
        gt_customers[keys[c]] = {
            "pattern": plan.pattern,
            "favourite_weekday": plan.favourite_weekday,
            "favourite_hour": plan.favourite_hour,
            "churn_date": tl.day(plan.churn_day) if plan.churn_day is not None else None,
            "habit_broke_on": last_day if plan.pattern == "broken_habit" else None,
            "planted_gap_days": plan.planted_gap_days,
            "home_store": STORE_CODES[plan.home_store],
            "thursday_group": plan.group,
            "first_visit": tl.day(int(day[first_idx[c]])),
            "last_visit": last_day,
            "visits": int(counts[c]),
        }

    ground_truth = {
        "seed": seed,
        "start": start,
        "end": end,
        "timezone": "Asia/Seoul",
        "walk_in_share": WALK_IN_SHARE,
        "patterns": gt_patterns,
        "customers": gt_customers,
    }
    return DemoDataset(
        shop_name=menu.SHOP_NAME,
        category=menu.SHOP_CATEGORY,
        phone=menu.SHOP_PHONE,
        optout_080=menu.OPTOUT_080,
        sender_numbers=menu.SENDER_NUMBERS,
        stores=menu.STORES,
        products=menu.PRODUCTS,
        customers=tuple(out_customers),
        purchases=tuple(purchases),
        start=start,
        end=end,
        seed=seed,
        ground_truth=ground_truth,
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return copy.copy(value)


def ground_truth_json(dataset: DemoDataset) -> dict:
    """The planted ground truth with dates as ISO strings (``json.dumps``-ready)."""
    return _jsonable(dataset.ground_truth)
