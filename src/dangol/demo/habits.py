"""Planted visit habits: who comes when, where, and how reliably.

Everything here works on *day indices* into the :class:`Timeline` and *minutes
of the local (Seoul) day*; the generator turns them into UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .timeline import CLOSE_MINUTE, OPEN_MINUTE, Timeline

# pattern -> planned share of customers; "occasional" takes the remainder.
PATTERN_SHARES: dict[str, float] = {
    "weekly_regular": 0.12,
    "thursday_group": 0.03,
    "broken_habit": 0.04,
    "biweekly": 0.08,
    "monthly": 0.10,
    "one_timer": 0.25,
    "summer_only": 0.05,
    "lapsed": 0.10,
    "office_lunch": 0.10,
    "weekend_family": 0.08,
}
PATTERNS: tuple[str, ...] = (*PATTERN_SHARES, "occasional")

THURSDAY = 3
STORE_CODES = ("gangnam", "seongsu")
GANGNAM, SEONGSU = 0, 1

# basket kinds
NORMAL, FAMILY, QUICK, SUMMER_TREAT = 0, 1, 2, 3

# a broken habit: last visit 15–21 days before the end (two or three missed weeks)
BREAK_MIN_DAYS, BREAK_MAX_DAYS = 15, 21
LAPSE_MIN_DAYS = 60  # churn at least this many days before the end
HISTORY_DAYS = 42  # a "regular history" is at least six weeks

# favourite hours by home store (08..21 local)
_HOURS = np.arange(8, 22)
_HOUR_WEIGHTS = {
    GANGNAM: np.array([9, 8, 4, 3, 5, 4, 4, 4, 4, 3, 4, 3, 2, 1], dtype=float),
    SEONGSU: np.array([3, 4, 4, 4, 4, 6, 7, 7, 7, 6, 5, 4, 3, 2], dtype=float),
}
# walk-in traffic per hour
TRAFFIC_HOUR_WEIGHTS = {
    GANGNAM: np.array([10, 9, 5, 6, 12, 8, 5, 5, 4, 4, 4, 3, 2, 1], dtype=float),
    SEONGSU: np.array([3, 4, 5, 6, 7, 9, 10, 10, 10, 8, 6, 5, 4, 2], dtype=float),
}
_WEEKDAY_WEIGHTS = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.6])


@dataclass
class CustomerPlan:
    pattern: str
    home_store: int
    favourite_weekday: int | None = None
    favourite_hour: int | None = None
    planted_gap_days: float | None = None
    churn_day: int | None = None
    group: int | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Visits:
    """Column store of planted customer visits."""

    customer: list[np.ndarray] = field(default_factory=list)
    day: list[np.ndarray] = field(default_factory=list)
    minute: list[np.ndarray] = field(default_factory=list)
    store: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)

    def add(self, customer: int, day, minute, store, kind) -> None:
        day = np.asarray(day, dtype=np.int64)
        n = day.size
        self.customer.append(np.full(n, customer, dtype=np.int64))
        self.day.append(day)
        self.minute.append(np.broadcast_to(np.asarray(minute, dtype=np.int64), (n,)).copy())
        self.store.append(np.broadcast_to(np.asarray(store, dtype=np.int64), (n,)).copy())
        self.kind.append(np.broadcast_to(np.asarray(kind, dtype=np.int64), (n,)).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        names = ("customer", "day", "minute", "store", "kind")
        if not self.customer:
            return {k: np.zeros(0, dtype=np.int64) for k in names}
        return {k: np.concatenate(getattr(self, k)) for k in names}


def allocate_patterns(n: int, rng: np.random.Generator, tl: Timeline) -> list[str]:
    """Patterns for ``n`` customers: largest-remainder shares, shuffled, made feasible."""
    shares = np.array(list(PATTERN_SHARES.values()))
    raw = shares * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    short = round(shares.sum() * n) - counts.sum()
    counts[order[: max(short, 0)]] += 1
    labels: list[str] = []
    for name, c in zip(PATTERN_SHARES, counts, strict=True):
        labels.extend([name] * int(c))
    labels.extend(["occasional"] * (n - len(labels)))
    labels = [labels[i] for i in rng.permutation(n)]
    feasible = {
        "broken_habit": tl.n_days >= BREAK_MAX_DAYS + HISTORY_DAYS + 7,
        "lapsed": tl.n_days >= LAPSE_MIN_DAYS + HISTORY_DAYS + 8,
        "summer_only": bool(tl.summer.any()),
    }
    return [p if feasible.get(p, True) else "occasional" for p in labels]


# --------------------------------------------------------------------------- helpers


def _join_day(rng: np.random.Generator, latest: int) -> int:
    """A staggered join day in ``[0, latest]``; ~30 % were already coming when the period began."""
    latest = max(int(latest), 0)
    if rng.random() < 0.3:
        return int(rng.integers(0, min(14, latest) + 1))
    return int(rng.integers(0, latest + 1))


def _occurrences(tl: Timeline, first: int, weekday: int, step: int, stop: int) -> np.ndarray:
    """Days with ``weekday`` from ``first`` (inclusive) to ``stop`` (exclusive), every ``step``."""
    if first >= tl.n_days:
        return np.zeros(0, dtype=np.int64)
    d0 = tl.first_weekday_on_or_after(first, weekday)
    return np.arange(d0, min(stop, tl.n_days), step, dtype=np.int64)


def _attend(rng: np.random.Generator, n: int, miss: float, forced_tail: int) -> np.ndarray:
    keep = rng.random(n) >= miss
    if forced_tail:
        keep[-forced_tail:] = True
    return keep


def _minutes(
    rng, n: int, base: float, sd: float, lo: int = OPEN_MINUTE, hi: int = CLOSE_MINUTE - 1
) -> np.ndarray:
    return np.clip(np.rint(rng.normal(base, sd, n)), lo, hi).astype(np.int64)


def _fav_time(rng, store: int, lo_hour: int = 8, hi_hour: int = 21) -> tuple[int, float]:
    mask = (lo_hour <= _HOURS) & (hi_hour >= _HOURS)
    w = _HOUR_WEIGHTS[store] * mask
    hour = int(rng.choice(_HOURS, p=w / w.sum()))
    return hour, hour * 60 + float(rng.uniform(12, 48))


def _stores(rng, n: int, home: int, loyalty: float) -> np.ndarray:
    away = rng.random(n) >= loyalty
    return np.where(away, 1 - home, home).astype(np.int64)


def _random_minutes(rng, n: int, store: int) -> np.ndarray:
    w = TRAFFIC_HOUR_WEIGHTS[store]
    hours = rng.choice(_HOURS, size=n, p=w / w.sum())
    return hours * 60 + rng.integers(0, 60, n)


def _extras(rng, tl: Timeline, lo: int, hi: int, rate_per_week: float) -> np.ndarray:
    """A few off-pattern visits on random days in ``[lo, hi]``."""
    if hi < lo:
        return np.zeros(0, dtype=np.int64)
    n = rng.poisson(rate_per_week * (hi - lo + 1) / 7.0)
    return np.sort(rng.integers(lo, hi + 1, n))


# --------------------------------------------------------------------------- patterns


class HabitPlanter:
    def __init__(self, rng: np.random.Generator, tl: Timeline, visits: Visits):
        self.rng = rng
        self.tl = tl
        self.v = visits
        self.last = tl.n_days - 1
        self.groups: list[dict] = []

    # -- weekly family of patterns ----------------------------------------------------

    def _weekly(
        self,
        c: int,
        plan: CustomerPlan,
        *,
        first: int,
        stop: int,
        miss: float,
        forced_tail: int,
        extra_rate: float,
        base_minute: float,
        sd: float,
        loyalty: float = 0.93,
    ) -> np.ndarray:
        rng = self.rng
        days = _occurrences(self.tl, first, plan.favourite_weekday, 7, stop)
        days = days[_attend(rng, days.size, miss, min(forced_tail, days.size))]
        if days.size == 0:  # at least the first visit
            days = _occurrences(self.tl, first, plan.favourite_weekday, 7, self.tl.n_days)[:1]
        mins = _minutes(rng, days.size, base_minute, sd)
        self.v.add(c, days, mins, _stores(rng, days.size, plan.home_store, loyalty), NORMAL)
        if days.size:
            ex = _extras(rng, self.tl, int(days[0]), int(days[-1]), extra_rate)
            if ex.size:
                self.v.add(
                    c,
                    ex,
                    _random_minutes(rng, ex.size, plan.home_store),
                    _stores(rng, ex.size, plan.home_store, 0.8),
                    NORMAL,
                )
        return days

    def weekly_regular(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        plan.favourite_weekday = int(rng.choice(7, p=_WEEKDAY_WEIGHTS / _WEEKDAY_WEIGHTS.sum()))
        plan.favourite_hour, base = _fav_time(rng, plan.home_store)
        plan.planted_gap_days = 7
        first = _join_day(rng, self.tl.n_days - 8 * 7)
        # intact: the two most recent weeks are never missed
        self._weekly(
            c,
            plan,
            first=first,
            stop=self.tl.n_days,
            miss=0.15,
            forced_tail=2,
            extra_rate=0.08,
            base_minute=base,
            sd=10,
        )

    def _group_for(self, plan: CustomerPlan) -> dict:
        """Thursday groups: a book club / study group / parents' meet-up of 4–8 people."""
        rng = self.rng
        open_groups = [g for g in self.groups if g["size"] > len(g["members"])]
        if not open_groups:
            hour = int(rng.choice([10, 15, 19, 20], p=[0.3, 0.2, 0.3, 0.2]))
            store = int(rng.integers(0, 2))
            weeks = np.arange(0, self.tl.n_days // 7 + 2)
            meets = rng.random(weeks.size) >= 0.06  # the group skips a week now and then
            meets[-5:] = True
            open_groups = [
                {
                    "id": len(self.groups),
                    "hour": hour,
                    "minute": hour * 60 + int(rng.integers(0, 31)),
                    "store": store,
                    "size": int(rng.integers(4, 9)),
                    "members": [],
                    "meets": meets,
                }
            ]
            self.groups.append(open_groups[0])
        group = open_groups[0]
        group["members"].append(plan)
        plan.group = group["id"]
        plan.home_store = group["store"]
        plan.favourite_weekday = THURSDAY
        plan.favourite_hour = group["hour"]
        return group

    def _group_days(self, group: dict, first: int, stop: int) -> np.ndarray:
        days = _occurrences(self.tl, first, THURSDAY, 7, stop)
        d0 = self.tl.first_weekday_on_or_after(0, THURSDAY)
        return days[group["meets"][(days - d0) // 7]]

    def thursday_group(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        group = self._group_for(plan)
        plan.planted_gap_days = 7
        first = _join_day(rng, self.tl.n_days - 8 * 7)
        days = self._group_days(group, first, self.tl.n_days)
        days = days[_attend(rng, days.size, 0.1, min(2, days.size))]
        if days.size == 0:
            days = _occurrences(self.tl, first, THURSDAY, 7, self.tl.n_days)[-1:]
        mins = _minutes(rng, days.size, group["minute"] + 5, 6)
        self.v.add(c, days, mins, group["store"], NORMAL)
        if days.size:
            ex = _extras(rng, self.tl, int(days[0]), int(days[-1]), 0.04)
            if ex.size:
                self.v.add(
                    c, ex, _random_minutes(rng, ex.size, group["store"]), group["store"], NORMAL
                )

    def broken_habit(self, c: int, plan: CustomerPlan) -> None:
        """A reliable weekly regular whose last visit was 15–21 days before the end."""
        rng = self.rng
        thursday = rng.random() < 0.5
        window_lo = self.last - BREAK_MAX_DAYS
        if thursday:
            group = self._group_for(plan)
            last_visit = self.tl.first_weekday_on_or_after(window_lo, THURSDAY)
            first = _join_day(rng, last_visit - HISTORY_DAYS - 14)
            days = self._group_days(group, first, last_visit)
            days = days[_attend(rng, days.size, 0.06, min(4, days.size))]
            days = np.append(days, last_visit)
            mins = _minutes(rng, days.size, group["minute"] + 5, 6)
            store = group["store"]
        else:
            plan.favourite_weekday = int(
                rng.choice([0, 1, 2, 4, 5, 6], p=np.array([1, 1, 1, 1, 0.7, 0.6]) / 5.3)
            )
            plan.favourite_hour, base = _fav_time(rng, plan.home_store)
            last_visit = self.tl.first_weekday_on_or_after(window_lo, plan.favourite_weekday)
            first = _join_day(rng, last_visit - HISTORY_DAYS - 14)
            days = _occurrences(self.tl, first, plan.favourite_weekday, 7, last_visit + 1)
            days = days[_attend(rng, days.size, 0.08, min(4, days.size))]
            mins = _minutes(rng, days.size, base, 10)
            store = _stores(rng, days.size, plan.home_store, 0.95)
        if self.tl.closed[last_visit]:  # the café was shut that day: they came the day before
            days[-1] -= 1
        plan.planted_gap_days = 7
        self.v.add(c, days, mins, store, NORMAL)

    def biweekly(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        plan.favourite_weekday = int(rng.choice(7, p=_WEEKDAY_WEIGHTS / _WEEKDAY_WEIGHTS.sum()))
        plan.favourite_hour, base = _fav_time(rng, plan.home_store)
        plan.planted_gap_days = 14
        first = _join_day(rng, self.tl.n_days - 10 * 7)
        days = _occurrences(self.tl, first, plan.favourite_weekday, 14, self.tl.n_days)
        days = days[_attend(rng, days.size, 0.1, min(1, days.size))]
        shift = rng.choice([-1, 0, 1], size=days.size, p=[0.1, 0.8, 0.1])
        days = np.clip(days + shift, first, self.last)
        if days.size == 0:
            days = np.array([first])
        self.v.add(
            c,
            days,
            _minutes(rng, days.size, base, 15),
            _stores(rng, days.size, plan.home_store, 0.9),
            NORMAL,
        )

    def monthly(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        plan.favourite_hour, base = _fav_time(rng, plan.home_store)
        plan.planted_gap_days = 30
        first = _join_day(rng, self.tl.n_days - 95)
        steps = rng.integers(26, 35, size=self.tl.n_days // 26 + 2)
        days = first + np.concatenate([[0], np.cumsum(steps)])
        days = days[days <= self.last]
        days = days[_attend(rng, days.size, 0.08, min(1, days.size))]
        if days.size == 0:
            days = np.array([first])
        self.v.add(
            c,
            days,
            _minutes(rng, days.size, base, 25),
            _stores(rng, days.size, plan.home_store, 0.9),
            NORMAL,
        )

    def one_timer(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        day = int(rng.integers(0, self.tl.n_days))
        self.v.add(c, [day], _random_minutes(rng, 1, plan.home_store), plan.home_store, NORMAL)

    def summer_only(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        summer_days = np.flatnonzero(self.tl.summer)
        gap = float(rng.uniform(6, 12))
        plan.planted_gap_days = round(gap, 1)
        plan.favourite_hour, base = _fav_time(rng, plan.home_store, 12, 20)
        first = int(rng.choice(summer_days))
        years = self.tl.year[summer_days]
        first_year = int(self.tl.year[first])
        all_days = [np.array([first])]
        for year in np.unique(years[years >= first_year]).tolist():
            in_year = summer_days[years == year]
            span_end = int(in_year[-1])
            if year == first_year:
                lo = first
            else:
                if rng.random() >= 0.85:  # most come back the next summer
                    continue
                lo = int(in_year[0]) + int(rng.integers(0, 21))
                if lo > span_end:
                    continue
                all_days.append(np.array([lo]))
            n_draws = int((span_end - lo) / gap * 3) + 3
            ds = np.rint(lo + np.cumsum(rng.exponential(gap, size=n_draws))).astype(np.int64)
            all_days.append(ds[ds <= span_end])
        days = np.unique(np.concatenate(all_days))
        days = days[self.tl.summer[days]]
        kind = np.where(rng.random(days.size) < 0.7, SUMMER_TREAT, NORMAL)
        self.v.add(
            c,
            days,
            _minutes(rng, days.size, base, 40),
            _stores(rng, days.size, plan.home_store, 0.85),
            kind,
        )

    def lapsed(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        step = 7 if rng.random() < 0.6 else 14
        plan.planted_gap_days = step
        plan.favourite_weekday = int(rng.choice(7, p=_WEEKDAY_WEIGHTS / _WEEKDAY_WEIGHTS.sum()))
        plan.favourite_hour, base = _fav_time(rng, plan.home_store)
        latest_churn = self.last - LAPSE_MIN_DAYS
        history = max(HISTORY_DAYS, 6 * step)
        if latest_churn < history + 7:
            step, history = 7, HISTORY_DAYS
            plan.planted_gap_days = step
        for _attempt in range(6):  # a history that is not only in summer (that is seasonal)
            churn = int(rng.integers(history + 7, latest_churn + 1))
            first = _join_day(rng, churn - history - 7)
            days = _occurrences(self.tl, first, plan.favourite_weekday, step, churn)
            days = days[_attend(rng, days.size, 0.12, min(3, days.size))]
            if days.size and not self.tl.summer[days].all():
                break
        if days.size == 0:
            days = np.array([first])
        plan.churn_day = int(days[-1]) + 1
        # the planted churn date: the day after the last visit, by construction
        self.v.add(
            c,
            days,
            _minutes(rng, days.size, base, 12),
            _stores(rng, days.size, plan.home_store, 0.92),
            NORMAL,
        )
        ex = _extras(rng, self.tl, int(days[0]), int(days[-1]), 0.05)
        if ex.size:
            self.v.add(
                c, ex, _random_minutes(rng, ex.size, plan.home_store), plan.home_store, NORMAL
            )

    def office_lunch(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        plan.home_store = GANGNAM
        per_week = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        plan.planted_gap_days = round(7 / per_week, 1)
        plan.favourite_weekday = int(rng.integers(0, 5))
        plan.favourite_hour = 12
        first = _join_day(rng, self.tl.n_days - 5 * 7)
        days = np.arange(first, self.tl.n_days)
        wd = self.tl.weekday[days]
        days = days[(wd < 5) & ~self.tl.holiday[days]]
        p = np.where(self.tl.weekday[days] == plan.favourite_weekday, 1.8, 0.8) * per_week / 5
        days = days[rng.random(days.size) < np.minimum(p, 0.95)]
        if days.size == 0 or days[-1] < self.last - 9:  # still coming: a visit in the last 10 days
            recent = np.arange(max(first, self.last - 9), self.tl.n_days)
            recent = recent[(self.tl.weekday[recent] < 5) & ~self.tl.holiday[recent]]
            if recent.size:
                days = np.append(days, recent[-1])
            elif days.size == 0:
                days = np.array([first])
        mins = _minutes(rng, days.size, 12 * 60 + 25, 20, 11 * 60 + 30, 13 * 60 + 29)
        self.v.add(c, days, mins, GANGNAM, QUICK)

    def weekend_family(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        plan.home_store = SEONGSU if rng.random() < 0.8 else GANGNAM
        step = int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
        plan.planted_gap_days = 7 * step
        plan.favourite_weekday = 5 if rng.random() < 0.5 else 6
        plan.favourite_hour = int(rng.choice([13, 14, 15, 16], p=[0.25, 0.35, 0.25, 0.15]))
        first = _join_day(rng, self.tl.n_days - 8 * 7)
        days = _occurrences(self.tl, first, plan.favourite_weekday, 7 * step, self.tl.n_days)
        days = days[_attend(rng, days.size, 0.15, min(1, days.size))]
        # a quarter of the outings happen on the other weekend day
        other = 11 - plan.favourite_weekday  # Sat(5) <-> Sun(6)
        flip = rng.random(days.size) < 0.25
        days = np.where(flip, days + (other - plan.favourite_weekday), days)
        days = np.clip(days, 0, self.last)
        days = days[self.tl.weekday[days] >= 5]
        if days.size == 0:
            days = _occurrences(self.tl, 0, plan.favourite_weekday, 7, self.tl.n_days)[-1:]
        base = plan.favourite_hour * 60 + float(rng.uniform(10, 50))
        mins = _minutes(rng, days.size, base, 25, 13 * 60, 16 * 60 + 59)
        self.v.add(c, days, mins, _stores(rng, days.size, plan.home_store, 0.92), FAMILY)

    def occasional(self, c: int, plan: CustomerPlan) -> None:
        rng = self.rng
        gap = float(rng.uniform(14, 40))
        plan.planted_gap_days = round(gap, 1)
        first = _join_day(rng, self.tl.n_days - 30)
        gaps = rng.exponential(gap, self.tl.n_days // 5 + 5)
        t = first + np.concatenate([[0.0], np.cumsum(gaps)])
        days = np.rint(t).astype(np.int64)
        days = days[days <= self.last]
        if days[-1] < self.last - 44:  # still an active customer
            days = np.append(days, rng.integers(self.last - 44, self.tl.n_days))
        self.v.add(
            c,
            days,
            _random_minutes(rng, days.size, plan.home_store),
            _stores(rng, days.size, plan.home_store, 0.85),
            NORMAL,
        )


def plant_habits(
    patterns: list[str],
    rng: np.random.Generator,
    tl: Timeline,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[CustomerPlan], dict[str, np.ndarray]]:
    """Plan every customer and generate their visits (before closures are applied)."""
    visits = Visits()
    planter = HabitPlanter(rng, tl, visits)
    plans: list[CustomerPlan] = []
    total = len(patterns)
    for c, pattern in enumerate(patterns):
        plan = CustomerPlan(pattern=pattern, home_store=GANGNAM if rng.random() < 0.55 else SEONGSU)
        getattr(planter, pattern)(c, plan)
        plans.append(plan)
        if progress is not None:
            progress(c + 1, total)
    cols = visits.arrays()
    return plans, _apply_closures(cols, tl, plans)


def _apply_closures(
    cols: dict[str, np.ndarray], tl: Timeline, plans: list[CustomerPlan]
) -> dict[str, np.ndarray]:
    """Drop visits on Seollal/Chuseok (the café is shut); nobody is left without a visit."""
    day = cols["day"]
    shut = tl.closed[day]
    if not shut.any():
        return cols
    keep = ~shut
    have = np.zeros(len(plans), dtype=bool)
    have[cols["customer"][keep]] = True
    for i in np.flatnonzero(shut):
        c = cols["customer"][i]
        if have[c]:
            continue
        d = int(day[i])
        for cand in (d + 1, d - 1, d + 2, d - 2):
            if 0 <= cand < tl.n_days and not tl.closed[cand]:
                day[i] = cand
                break
        keep[i] = True
        have[c] = True
    return {k: v[keep] for k, v in cols.items()}
