"""RFM scores and segments, including the awkward small-shop cases."""

from __future__ import annotations

import itertools

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from dangol.analytics.rfm import DEFAULT_RULES, SEGMENT_LABELS, SegmentRule, rfm_scores


def _frame(days, visits, spend):
    return pl.DataFrame({"days_since_last": days, "frequency": visits, "total_spend": spend})


def test_one_customer_scores_the_middle():
    out = rfm_scores(_frame([3.0], [2], [10000.0]))
    assert out.row(0, named=True)["rfm"] == "333"
    assert out["segment"][0] == "loyal"
    assert out["segment_ko"][0] == "충성 고객"


def test_identical_customers_share_scores():
    out = rfm_scores(_frame([5.0] * 4, [1] * 4, [100.0] * 4))
    assert out["rfm"].unique().to_list() == ["333"]


def test_fewer_than_five_distinct_values():
    out = rfm_scores(
        _frame(
            [1.0, 1.0, 30.0, 30.0, 30.0, 90.0], [0, 0, 1, 1, 1, 9], [1.0, 1.0, 2.0, 2.0, 2.0, 3.0]
        )
    )
    r = out["r_score"].to_list()
    assert r[0] == r[1] > r[2] == r[3] == r[4] > r[5]
    assert out["f_score"][5] == 5 and out["f_score"][0] == out["f_score"][1]


def test_standard_segments():
    days = list(range(1, 101))
    out = rfm_scores(
        _frame([float(d) for d in days], list(reversed(days)), [float(v) for v in reversed(days)])
    )
    assert out["segment"][0] == "champions"
    assert out["segment_en"][0] == "Champions"
    assert out["segment"][99] == "lost" and out["segment_ko"][99] == "이탈 고객"


def test_summary_frames_work_directly(cdnow_summary):
    out = rfm_scores(cdnow_summary)
    assert out.height == cdnow_summary.height
    assert set(out["segment"].unique()) <= set(SEGMENT_LABELS)
    assert out["segment_ko"].null_count() == 0


def test_rule_table_covers_every_combination():
    frame = pl.DataFrame(
        [
            {"r_score": r, "f_score": f, "m_score": m}
            for r, f, m in itertools.product(range(1, 6), repeat=3)
        ]
    )
    for r, f, m in frame.iter_rows():
        matches = [
            rule.segment
            for rule in DEFAULT_RULES
            if rule.r[0] <= r <= rule.r[1]
            and rule.f[0] <= f <= rule.f[1]
            and rule.m[0] <= m <= rule.m[1]
        ]
        assert matches, (r, f, m)
    assert {rule.segment for rule in DEFAULT_RULES} == set(SEGMENT_LABELS)


def test_custom_rules():
    # Two customers sit at the 25th and 75th percentiles: scores 2 and 4.
    rules = (
        SegmentRule("champions", (4, 5), (1, 5), (1, 5)),
        SegmentRule("lost", (1, 3), (1, 5), (1, 5)),
    )
    out = rfm_scores(_frame([1.0, 50.0], [1, 1], [1.0, 1.0]), rules=rules)
    assert out["segment"].to_list() == ["champions", "lost"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.integers(0, 50), st.integers(0, 10**6)),
        min_size=1,
        max_size=40,
    )
)
def test_scores_are_in_range_and_monotone(rows):
    days, visits, spend = zip(*rows, strict=True)
    out = rfm_scores(_frame([float(d) for d in days], list(visits), [float(s) for s in spend]))
    for column in ("r_score", "f_score", "m_score"):
        assert out[column].is_between(1, 5).all()
    ordered = out.sort("frequency")
    assert (
        ordered["f_score"].diff().drop_nulls().min() is None
        or (ordered["f_score"].diff().drop_nulls() >= 0).all()
    )
    assert out.group_by("days_since_last").agg(pl.col("r_score").n_unique())["r_score"].max() == 1
    assert out["segment"].null_count() == 0
