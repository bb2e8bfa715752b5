"""Summaries: the published CDNOW calibration summary and occasion/holdout conventions."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dangol.analytics.summary import read_transactions_csv, summarize


def test_reproduces_published_cdnow_summary(cdnow_summary, cdnow_published_summary):
    joined = cdnow_summary.join(
        cdnow_published_summary, left_on="customer_id", right_on="ID", how="full"
    )
    assert joined.height == 2357
    assert (joined["frequency"] == joined["frequency_right"]).all()
    assert (joined["recency"].round(2) == joined["recency_right"]).all()
    assert (joined["T"].round(2) == joined["T_right"]).all()


def test_cdnow_occasions_and_holdout(cdnow_transactions, cdnow_summary):
    assert cdnow_transactions.height == 6919
    assert cdnow_transactions.select("customer_id", "date").unique().height == 6696
    assert cdnow_summary["holdout_frequency"].sum() == 1882
    assert (cdnow_summary["holdout_duration"] == 39.0).all()
    assert (cdnow_summary["frequency"] > 0).sum() == 946
    first = cdnow_summary.filter(pl.col("customer_id") == 1).row(0, named=True)
    # Customer 1 repeat occasions: 29.73 and 14.96; holdout: 26.48 on 1997-12-12.
    assert first["monetary_value"] == pytest.approx((29.73 + 14.96) / 2)
    assert first["holdout_spend"] == pytest.approx(26.48)
    assert first["first_purchase"] == dt.date(1997, 1, 1)
    assert first["last_purchase"] == dt.date(1997, 8, 2)


def test_same_day_purchases_are_one_occasion_with_summed_value():
    tx = pl.DataFrame(
        {
            "c": ["a", "a", "a", "a", "b"],
            "at": [
                dt.datetime(2024, 1, 1, 10),
                dt.datetime(2024, 1, 5, 9),
                dt.datetime(2024, 1, 5, 18),
                dt.datetime(2024, 2, 1, 12),
                dt.datetime(2024, 1, 20, 12),
            ],
            "won": [5000, 3000, 2000, 7000, 1000],
        }
    )
    out = summarize(
        tx,
        customer="c",
        at="at",
        amount="won",
        calibration_end="2024-01-31",
        holdout_end="2024-02-29",
        unit="D",
    )
    a = out.filter(pl.col("c") == "a").row(0, named=True)
    assert a["frequency"] == 1
    assert a["recency"] == 4.0
    assert a["T"] == 30.0
    assert a["monetary_value"] == 5000.0
    assert a["total_spend"] == 10000.0
    assert a["holdout_frequency"] == 1
    assert a["holdout_spend"] == 7000.0
    b = out.filter(pl.col("c") == "b").row(0, named=True)
    assert (b["frequency"], b["recency"], b["monetary_value"]) == (0, 0.0, 0.0)
    assert b["holdout_frequency"] == 0


def test_customers_first_seen_after_calibration_are_left_out():
    tx = pl.DataFrame({"c": [1, 2], "at": ["2024-01-01", "2024-03-01"]})
    out = summarize(tx, customer="c", at="at", calibration_end=dt.date(2024, 1, 31), unit="D")
    assert out["c"].to_list() == [1]
    assert out["monetary_value"].to_list() == [0.0]


def test_holdout_must_follow_calibration():
    tx = pl.DataFrame({"c": [1], "at": [dt.date(2024, 1, 1)]})
    with pytest.raises(ValueError, match="holdout_end"):
        summarize(tx, customer="c", at="at", calibration_end="2024-02-01", holdout_end="2024-01-15")


def test_csv_reader_parses_text_timestamps(tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text(
        "member,paid_at,total,memo\nk1,2024-03-01 14:22:00,12000,x\nk1,2024-03-08 13:01:00,9000,y\n"
    )
    tx = read_transactions_csv(path, customer="member", at="paid_at", amount="total")
    assert tx.columns == ["member", "paid_at", "total"]
    out = summarize(
        tx, customer="member", at="paid_at", amount="total", calibration_end="2024-03-31", unit="D"
    )
    assert out.row(0, named=True)["recency"] == 7.0
