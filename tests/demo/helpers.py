"""Small views over a demo dataset used by the tests (local-time visits per customer)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

from dangol.demo.generator import DemoDataset, DemoPurchase

KST = timezone(timedelta(hours=9))


def local(dt: datetime) -> datetime:
    return dt.astimezone(KST)


def visits_by_customer(dataset: DemoDataset) -> dict[str, list[DemoPurchase]]:
    out: dict[str, list[DemoPurchase]] = defaultdict(list)
    for p in dataset.purchases:
        if p.customer_key is not None:
            out[p.customer_key].append(p)
    return out


def keys_of(dataset: DemoDataset, pattern: str) -> list[str]:
    return [c.key for c in dataset.customers if c.pattern == pattern]


def local_days(purchases: list[DemoPurchase]) -> list[date]:
    return [local(p.occurred_at).date() for p in purchases]


def detect_broken_habits(dataset: DemoDataset) -> set[str]:
    """A deliberately naive detector: a weekly regular silent for two to four weeks."""
    found = set()
    for key, ps in visits_by_customer(dataset).items():
        days = sorted(set(local_days(ps)))
        if len(days) < 6:
            continue
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        gaps.sort()
        median = gaps[len(gaps) // 2]
        silent = (dataset.end - days[-1]).days
        if median <= 8 and 14 < silent <= 30:
            found.add(key)
    return found


def detect_lapsed(dataset: DemoDataset) -> set[str]:
    """Naive: a regular (median gap ≤ 3 weeks, ≥ 4 visits) silent for 60+ days, not seasonal."""
    found = set()
    for key, ps in visits_by_customer(dataset).items():
        days = sorted(set(local_days(ps)))
        if len(days) < 4:
            continue
        if all(d.month in (6, 7, 8) for d in days):
            continue
        gaps = sorted((b - a).days for a, b in itertools.pairwise(days))
        median = gaps[len(gaps) // 2]
        if median <= 21 and (dataset.end - days[-1]).days > 60:
            found.add(key)
    return found
