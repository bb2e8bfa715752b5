"""The calendar of the demo period: days, weekdays, seasons and closures (Seoul time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

import numpy as np

KST = timezone(timedelta(hours=9), "KST")
OPEN_MINUTE = 8 * 60  # 08:00 local
CLOSE_MINUTE = 22 * 60  # 22:00 local (exclusive)
SUMMER_MONTHS = (6, 7, 8)


def shift_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamping the day of month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - unreachable


@lru_cache(maxsize=64)
def lunar_festival_days(year: int) -> tuple[date, ...]:
    """Seollal (lunar 1/1) and Chuseok (lunar 8/15) of ``year`` — the days the café closes."""
    from korean_lunar_calendar import KoreanLunarCalendar

    days = []
    cal = KoreanLunarCalendar()
    for month, day in ((1, 1), (8, 15)):
        if cal.setLunarDate(year, month, day, False):
            days.append(date.fromisoformat(cal.SolarIsoFormat()))
    return tuple(days)


@lru_cache(maxsize=64)
def public_holidays(years: tuple[int, ...]) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("KR", years=list(years)).keys())


@dataclass(frozen=True)
class Timeline:
    """Day-indexed view of the period ``start``..``end`` (both inclusive)."""

    start: date
    end: date
    n_days: int
    weekday: np.ndarray  # 0=Mon per day index
    month: np.ndarray  # 1..12 per day index
    year: np.ndarray  # calendar year per day index
    closed: np.ndarray  # bool: Seollal / Chuseok
    holiday: np.ndarray  # bool: public holiday (offices closed)
    summer: np.ndarray  # bool: June–August

    @classmethod
    def build(cls, start: date, end: date) -> Timeline:
        n_days = (end - start).days + 1
        days = [start + timedelta(days=i) for i in range(n_days)]
        weekday = np.array([d.weekday() for d in days], dtype=np.int64)
        month = np.array([d.month for d in days], dtype=np.int64)
        year = np.array([d.year for d in days], dtype=np.int64)
        years = tuple(range(start.year, end.year + 1))
        festivals = {d for y in years for d in lunar_festival_days(y)}
        hols = public_holidays(years)
        closed = np.array([d in festivals for d in days], dtype=bool)
        holiday = np.array([d in hols for d in days], dtype=bool)
        summer = np.isin(month, SUMMER_MONTHS)
        return cls(start, end, n_days, weekday, month, year, closed, holiday, summer)

    def day(self, index: int) -> date:
        return self.start + timedelta(days=int(index))

    def first_weekday_on_or_after(self, index: int, weekday: int) -> int:
        return int(index + (weekday - self.weekday[index]) % 7) if index < self.n_days else index

    def to_utc(self, day_index: np.ndarray, second_of_day: np.ndarray) -> list[datetime]:
        """Aware UTC datetimes for local (day index, second of day) pairs."""
        base = datetime(self.start.year, self.start.month, self.start.day, tzinfo=KST)
        base_utc = base.astimezone(UTC)
        offsets = day_index.astype(np.int64) * 86400 + second_of_day.astype(np.int64)
        return [base_utc + timedelta(seconds=int(s)) for s in offsets.tolist()]
