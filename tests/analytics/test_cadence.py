"""Personal cadence: gaps, weekday/hour habits and the broken-habit rule."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dangol.analytics.cadence import cadence

THURSDAY = dt.datetime(2024, 1, 4, 19, 30)


def _rows(name, times):
    return [{"c": name, "at": t} for t in times]


@pytest.fixture
def shop():
    weekly = [THURSDAY + dt.timedelta(weeks=k) for k in range(8)]  # last visit 2024-02-22
    fortnightly = [dt.datetime(2024, 1, 6, 11) + dt.timedelta(weeks=2 * k) for k in range(5)]
    irregular = [dt.datetime(2024, 1, d, 8) for d in (1, 2, 9, 20)] + [dt.datetime(2024, 3, 1, 8)]
    once = [dt.datetime(2024, 3, 10, 15)]
    same_day = [dt.datetime(2024, 2, 1, 9), dt.datetime(2024, 2, 1, 17), dt.datetime(2024, 2, 8, 9)]
    rows = (
        _rows("thursday_group", weekly)
        + _rows("fortnightly", fortnightly)
        + _rows("irregular", irregular)
        + _rows("once", once)
        + _rows("same_day", same_day)
    )
    return pl.DataFrame(rows)


def _by_customer(frame):
    return {row["c"]: row for row in frame.iter_rows(named=True)}


def test_thursday_group_missing_two_weeks_is_a_broken_habit(shop):
    on_time = _by_customer(cadence(shop, customer="c", at="at", asof="2024-02-28"))
    assert on_time["thursday_group"]["regular"]
    assert not on_time["thursday_group"]["broken_habit"]
    one_missed = _by_customer(cadence(shop, customer="c", at="at", asof="2024-03-06"))
    assert one_missed["thursday_group"]["missed_occurrences"] == 1
    assert not one_missed["thursday_group"]["broken_habit"]
    two_missed = _by_customer(cadence(shop, customer="c", at="at", asof="2024-03-07"))
    row = two_missed["thursday_group"]
    assert row["missed_occurrences"] == 2 and row["broken_habit"]
    assert row["habit_weekday"] == 4 and row["habit_weekday_share"] == 1.0
    assert row["habit_hour"] == 19
    assert row["typical_gap_days"] == 7.0
    assert row["days_since_last"] == 14
    assert row["overdue_ratio"] == pytest.approx(2.0)
    assert row["expected_next_visit"] == dt.date(2024, 2, 29)


def test_fortnightly_habit_counts_fortnights(shop):
    # Saturdays every two weeks, last visit 2024-03-02: due 03-16 and 03-30.
    rows = _by_customer(cadence(shop, customer="c", at="at", asof="2024-03-29"))
    assert rows["fortnightly"]["habit_period_weeks"] == 2
    assert rows["fortnightly"]["missed_occurrences"] == 1
    assert not rows["fortnightly"]["broken_habit"]
    rows = _by_customer(cadence(shop, customer="c", at="at", asof="2024-03-30"))
    assert rows["fortnightly"]["broken_habit"]


def test_irregular_and_single_visit_customers_never_have_a_broken_habit(shop):
    rows = _by_customer(cadence(shop, customer="c", at="at", asof="2024-06-30"))
    assert not rows["irregular"]["regular"] and not rows["irregular"]["broken_habit"]
    assert rows["irregular"]["typical_gap_days"] == pytest.approx(9.0)  # gaps 1, 7, 11, 41
    once = rows["once"]
    assert once["visits"] == 1
    assert once["typical_gap_days"] is None and once["overdue_ratio"] is None
    assert not once["broken_habit"]


def test_same_day_purchases_are_one_visit_and_future_rows_are_ignored(shop):
    rows = _by_customer(cadence(shop, customer="c", at="at", asof="2024-02-10"))
    assert rows["same_day"]["visits"] == 2
    assert rows["same_day"]["habit_hour"] == 9
    assert "once" not in rows  # first seen after asof
    assert rows["thursday_group"]["visits"] == 6


def test_dates_without_time_have_no_hour_habit():
    tx = pl.DataFrame(
        {"c": [1, 1, 1], "d": [dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)]}
    )
    row = cadence(tx, customer="c", at="d", asof=dt.date(2024, 1, 20)).row(0, named=True)
    assert row["habit_hour"] is None
    assert row["habit_weekday"] == 1
