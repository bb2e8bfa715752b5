"""Plain-language reasons and actions: fixed rules, deterministic output."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dangol.analytics.cadence import cadence
from dangol.analytics.churn import ChurnModel
from dangol.analytics.reasons import customer_reasons, explain

BASE = {
    "frequency": 5.0,
    "days_since_last": 10.0,
    "typical_gap_days": 7.0,
    "overdue_ratio": 1.4,
    "trend_90": 1.0,
    "visits_before_90": 3.0,
    "bgnbd_p_alive": 0.9,
    "broken_habit": 0.0,
    "total_spend": 50000.0,
}


def test_overdue_reason_in_both_languages():
    reasons = customer_reasons({**BASE, "days_since_last": 23.0, "overdue_ratio": 23 / 7})
    assert reasons[0].key == "overdue"
    assert reasons[0].ko == "보통 7일마다 오시는데 23일째 방문이 없어요"
    assert reasons[0].en == "Usually visits every 7 days; no visit for 23 days"


def test_declining_visits():
    half = customer_reasons({**BASE, "trend_90": 0.5})
    assert [r.ko for r in half] == ["최근 3개월 방문이 그 전보다 절반 이하로 줄었어요"]
    less = customer_reasons({**BASE, "trend_90": 0.6})
    assert less[0].ko == "최근 3개월 방문이 그 전보다 40% 정도 줄었어요"


def test_one_timer_and_fallback():
    one = customer_reasons(
        {**BASE, "frequency": 0.0, "days_since_last": 45.0, "overdue_ratio": 0.5}
    )
    assert one[0].key == "one_timer" and "45일" in one[0].ko
    calm = customer_reasons(BASE)
    assert [r.key for r in calm] == ["since_last"]
    assert calm[0].ko == "마지막 방문 후 10일이 지났어요"


def test_strongest_first_and_at_most_three():
    row = {
        **BASE,
        "broken_habit": 1.0,
        "habit_weekday": 4,
        "missed_occurrences": 2,
        "habit_period_weeks": 1,
        "days_since_last": 21.0,
        "overdue_ratio": 3.0,
        "trend_90": 0.3,
        "bgnbd_p_alive": 0.1,
    }
    reasons = customer_reasons(row)
    assert reasons[0].ko == "매주 목요일에 오시던 분인데 2번 연속 오지 않으셨어요"
    assert reasons[0].en == "Used to come every Thursday, but missed the last 2"
    assert len(reasons) == 4
    frame = pl.DataFrame([{"c": "a", "churn_probability": 0.8, "at_risk": True, **row}])
    out = explain(frame, customer="c")
    assert out["reasons_ko"].list.len()[0] == 3


def test_explain_thursday_group_end_to_end():
    rows = []
    start = dt.datetime(2024, 1, 4, 19)
    for k in range(10):  # Thursday group, stops after 2024-03-07
        rows.append({"c": "thursday", "at": start + dt.timedelta(weeks=k), "won": 40000.0})
    for c in range(12):  # others who keep coming
        for k in range(14):
            at = dt.datetime(2024, 1, 2, 9) + dt.timedelta(days=7 * k + c % 5)
            rows.append({"c": f"x{c}", "at": at, "won": 8000.0})
    tx = pl.DataFrame(rows)
    asof = "2024-03-22"
    scored = (
        ChurnModel()
        .fit(tx, customer="c", at="at", amount="won", cutoff=asof)
        .predict(tx, customer="c", at="at", amount="won", cutoff=asof)
    )
    rhythm = cadence(tx, customer="c", at="at", asof=asof)
    out = explain(scored, customer="c", rhythm=rhythm, only_at_risk=False)
    first = out.filter(pl.col("c") == "thursday").row(0, named=True)
    assert first["reason_keys"][0] == "broken_habit"
    assert first["action_ko"] == "평소 오시던 목요일에 맞춰 안부 메시지를 보내 보세요."
    assert first["action_en"].endswith("Thursday.")
    assert out["churn_probability"][0] == out["churn_probability"].max()
    again = explain(scored, customer="c", rhythm=rhythm, only_at_risk=False)
    assert again.equals(out)
    assert all(1 <= n <= 3 for n in out["reasons_ko"].list.len())


def test_column_by_column_reasons_match_row_by_row(monkeypatch):
    import numpy as np

    import dangol.analytics.reasons as reasons

    rng = np.random.default_rng(5)
    n = 3000
    frequency = rng.choice([0.0, 1.0, 2.0, 3.0, 8.0], n)
    gap = np.where(rng.random(n) < 0.1, 0.0, rng.choice([0.5, 3.0, 7.0, 14.0, 30.5], n))
    since = rng.integers(0, 200, n).astype(float) + rng.choice([0.0, 0.5], n)
    scored = pl.DataFrame(
        {
            "c": np.arange(n),
            "frequency": frequency,
            "days_since_last": since,
            "typical_gap_days": gap,
            "overdue_ratio": since / np.maximum(gap, 1.0),
            "trend_90": rng.choice([0.04, 0.3, 0.5, 0.55, 0.6, 0.65, 1.0, 2.0], n),
            "visits_before_90": rng.integers(0, 5, n).astype(float),
            "bgnbd_p_alive": rng.random(n),
            "broken_habit": (rng.random(n) < 0.2).astype(float),
            "total_spend": rng.choice([0.0, 5000.0, 20000.0, 90000.0], n),
            "churn_probability": np.round(rng.random(n), 2),
            "at_risk": rng.random(n) < 0.7,
        }
    )
    rhythm = pl.DataFrame(
        {
            "c": np.arange(n),
            "habit_weekday": pl.Series(rng.integers(1, 8, n), dtype=pl.Int8),
            "missed_occurrences": rng.integers(0, 5, n),
            "habit_period_weeks": rng.choice([1, 2, 3], n),
        }
    ).with_columns(
        pl.when(pl.col("c") % 7 == 0)
        .then(None)
        .otherwise(pl.col("habit_weekday"))
        .alias("habit_weekday")
    )
    for kwargs in (
        {"rhythm": rhythm},
        {"rhythm": None, "max_reasons": 1},
        {"rhythm": rhythm, "max_reasons": 6, "only_at_risk": False},
    ):
        monkeypatch.setattr(reasons, "VECTORISED_MIN_ROWS", 10**9)
        by_rows = explain(scored, customer="c", **kwargs)
        monkeypatch.setattr(reasons, "VECTORISED_MIN_ROWS", 0)
        by_columns = explain(scored, customer="c", **kwargs)
        assert by_rows.height > 1000
        assert by_rows.equals(by_columns)
