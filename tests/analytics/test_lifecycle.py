"""Lifecycle statuses and seasonality on hand-made histories, and the scorecard's contract."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from dangol.analytics.cadence import visits
from dangol.analytics.lifecycle import STATUSES, lifecycle_status, seasonal_customers
from dangol.analytics.scorecard import SCORE_COLUMNS, score_customers

ASOF = dt.date(2026, 11, 20)


def _frame(histories: dict[str, list[dt.date]]) -> pl.DataFrame:
    rows = [
        (c, dt.datetime.combine(d, dt.time(14, 0)), 5000)
        for c, days in histories.items()
        for d in days
    ]
    return pl.DataFrame(rows, schema=["c", "at", "amount"], orient="row")


def _every(start: dt.date, step: int, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=step * k) for k in range(n)]


def test_a_season_needs_to_have_come_round_before():
    summer = {
        # Came in the summers of 2025 and 2026: seasonal by their own history.
        "twice": _every(dt.date(2025, 7, 1), 7, 6) + _every(dt.date(2026, 7, 2), 7, 6),
        # One summer only, like a lapsed regular, and nobody else shows a summer season.
        "once": _every(dt.date(2026, 6, 10), 7, 8),
        # December to February is one season across the new year.
        "winter": _every(dt.date(2025, 12, 10), 7, 8),
    }
    out = seasonal_customers(visits(_frame(summer), customer="c", at="at"), customer="c")
    seasonal = dict(zip(out["c"], out["seasonal"], strict=True))
    assert seasonal == {"twice": True, "once": False, "winter": False}
    month = dict(zip(out["c"], out["season_start_month"], strict=True))
    assert month["twice"] in (6, 7)


def test_a_shop_season_makes_one_season_customers_seasonal():
    histories = {
        f"r{i}": _every(dt.date(2025, 6, 5 + i), 7, 6) + _every(dt.date(2026, 6, 5 + i), 7, 6)
        for i in range(3)
    }
    histories |= {f"n{i}": _every(dt.date(2026, 6, 3 + i), 6, 8) for i in range(6)}
    histories["spring"] = _every(dt.date(2026, 3, 2), 7, 6)  # a short history, not a season
    out = seasonal_customers(visits(_frame(histories), customer="c", at="at"), customer="c")
    seasonal = dict(zip(out["c"], out["seasonal"], strict=True))
    assert all(seasonal[f"n{i}"] for i in range(6))
    assert seasonal["spring"] is False


def _row(**values):
    base = {
        "visits": 6,
        "days_since_last": 3,
        "overdue_ratio": 0.5,
        "broken_habit": False,
        "at_risk": False,
        "seasonal": False,
    }
    return base | values


@pytest.mark.parametrize(
    ("row", "status"),
    [
        (_row(days_since_last=70, overdue_ratio=10.0), "lapsed"),
        (_row(days_since_last=70, overdue_ratio=10.0, seasonal=True), "seasonal"),
        (_row(visits=1, days_since_last=70, overdue_ratio=2.0), "dormant"),
        (_row(days_since_last=70, overdue_ratio=1.2), "dormant"),  # a slow regular, not lapsed
        (_row(broken_habit=True, at_risk=True, days_since_last=20), "broken_habit"),
        (_row(at_risk=True), "at_risk"),
        (_row(visits=1, days_since_last=5), "new"),
        (_row(), "active"),
        (_row(visits=None, days_since_last=None, overdue_ratio=None), "active"),
    ],
)
def test_status_rules_in_order(row, status):
    assert lifecycle_status(pl.DataFrame([row]))[0] == status
    assert status in STATUSES


@pytest.mark.parametrize("n", [1, 5, 30])
def test_scorecard_never_fails_on_tiny_shops(n):
    rng = np.random.default_rng(n)
    histories = {
        f"c{i}": sorted(
            {ASOF - dt.timedelta(days=int(d)) for d in rng.integers(0, 200, rng.integers(1, 9))}
        )
        for i in range(n)
    }
    card = score_customers(_frame(histories), customer="c", at="at", amount="amount", asof=ASOF)
    frame = card.customers
    assert frame.columns == ["c", *SCORE_COLUMNS] and frame.height == n
    for column in ("churn_probability", "p_alive", "expected_visits_90d", "clv"):
        values = frame[column].to_numpy()
        assert np.isfinite(values).all() and (values >= 0).all(), column
    assert set(frame["status"]) <= set(STATUSES)
    assert card.models["churn"]["not_enough_data"] is True
    needs_reason = frame.filter(pl.col("status").is_in(["lapsed", "dormant", "at_risk"]))
    assert all(len(r) >= 1 for r in needs_reason["reasons_ko"])


def test_scorecard_of_an_empty_frame_is_empty():
    empty = pl.DataFrame(schema={"c": pl.String, "at": pl.Datetime, "amount": pl.Int64})
    card = score_customers(empty, customer="c", at="at", amount="amount", asof=ASOF)
    assert card.customers.height == 0
