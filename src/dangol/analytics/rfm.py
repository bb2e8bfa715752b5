"""RFM scores (1-5) and the standard named segments, with Korean labels.

Scores come from mid-rank percentiles, ceil(5 * (rank - 0.5) / n) with tied values sharing
their average rank, so that small shops behave: equal values always get equal scores, a single
customer or a column of identical values scores 3 (the middle), and fewer than five distinct
values simply leave some scores unused instead of splitting ties arbitrarily.

Segment rule table (first matching row wins; ranges are inclusive score ranges R, F, M):

| segment | R | F | M |
|---|---|---|---|
| champions (챔피언) | 4-5 | 4-5 | 4-5 |
| cant_lose (놓치면 안 될 고객) | 1 | 4-5 | 4-5 |
| at_risk (이탈 위험) | 1-2 | 3-5 | 3-5 |
| loyal (충성 고객) | 3-5 | 3-5 | 3-5 |
| new (신규 고객) | 5 | 1 | 1-5 |
| promising (유망 고객) | 4 | 1 | 1-5 |
| potential_loyalist (잠재 충성 고객) | 4-5 | 2-5 | 1-5 |
| need_attention (관심 필요) | 2-3 | 2-3 | 2-3 |
| about_to_sleep (잠들기 직전) | 2-3 | 1-2 | 1-5 |
| need_attention (관심 필요) | 3 | 1-5 | 1-5 |
| hibernating (동면 고객) | 2 | 1-5 | 1-5 |
| lost (이탈 고객) | 1 | 1-5 | 1-5 |

Every one of the 125 score combinations is covered. Pass ``rules=`` to change the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class SegmentRule:
    segment: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int]


SEGMENT_LABELS: dict[str, tuple[str, str]] = {
    "champions": ("챔피언", "Champions"),
    "loyal": ("충성 고객", "Loyal"),
    "potential_loyalist": ("잠재 충성 고객", "Potential loyalist"),
    "new": ("신규 고객", "New"),
    "promising": ("유망 고객", "Promising"),
    "need_attention": ("관심 필요", "Need attention"),
    "about_to_sleep": ("잠들기 직전", "About to sleep"),
    "at_risk": ("이탈 위험", "At risk"),
    "cant_lose": ("놓치면 안 될 고객", "Can't lose them"),
    "hibernating": ("동면 고객", "Hibernating"),
    "lost": ("이탈 고객", "Lost"),
}

DEFAULT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("champions", (4, 5), (4, 5), (4, 5)),
    SegmentRule("cant_lose", (1, 1), (4, 5), (4, 5)),
    SegmentRule("at_risk", (1, 2), (3, 5), (3, 5)),
    SegmentRule("loyal", (3, 5), (3, 5), (3, 5)),
    SegmentRule("new", (5, 5), (1, 1), (1, 5)),
    SegmentRule("promising", (4, 4), (1, 1), (1, 5)),
    SegmentRule("potential_loyalist", (4, 5), (2, 5), (1, 5)),
    SegmentRule("need_attention", (2, 3), (2, 3), (2, 3)),
    SegmentRule("about_to_sleep", (2, 3), (1, 2), (1, 5)),
    SegmentRule("need_attention", (3, 3), (1, 5), (1, 5)),
    SegmentRule("hibernating", (2, 2), (1, 5), (1, 5)),
    SegmentRule("lost", (1, 1), (1, 5), (1, 5)),
)


def quantile_score(values: pl.Expr, *, bins: int = 5, higher_is_better: bool = True) -> pl.Expr:
    """1..bins from mid-rank percentiles; ties share a score, a lone value gets the middle."""
    ranked = (values if higher_is_better else -values).rank(method="average")
    percentile = (ranked - 0.5) / values.count()
    return (percentile * bins).ceil().clip(1, bins).cast(pl.Int8)


def _in(col: str, bounds: tuple[int, int]) -> pl.Expr:
    return pl.col(col).is_between(bounds[0], bounds[1])


def rfm_scores(
    frame: pl.DataFrame,
    *,
    recency: str = "days_since_last",
    frequency: str = "frequency",
    monetary: str = "total_spend",
    rules: Sequence[SegmentRule] = DEFAULT_RULES,
    bins: int = 5,
) -> pl.DataFrame:
    """Add ``r_score``, ``f_score``, ``m_score``, ``rfm`` ("545"), ``segment`` and its labels.

    ``recency`` is time since the last purchase (smaller is better). A frame straight from
    :func:`dangol.analytics.summary.summarize` works as is: days since last purchase is derived
    from ``T - recency`` when the column is missing, and ``total_spend`` is its spend column.
    """
    if recency not in frame.columns and {"T", "recency"} <= set(frame.columns):
        frame = frame.with_columns((pl.col("T") - pl.col("recency")).alias(recency))
    scored = frame.with_columns(
        quantile_score(pl.col(recency), bins=bins, higher_is_better=False).alias("r_score"),
        quantile_score(pl.col(frequency), bins=bins).alias("f_score"),
        quantile_score(pl.col(monetary), bins=bins).alias("m_score"),
    )
    segment = pl.lit(rules[-1].segment if rules else "lost")
    for rule in reversed(rules):
        condition = _in("r_score", rule.r) & _in("f_score", rule.f) & _in("m_score", rule.m)
        segment = pl.when(condition).then(pl.lit(rule.segment)).otherwise(segment)
    labels = pl.col("segment").replace_strict(
        {k: v[0] for k, v in SEGMENT_LABELS.items()}, default=pl.col("segment")
    )
    labels_en = pl.col("segment").replace_strict(
        {k: v[1] for k, v in SEGMENT_LABELS.items()}, default=pl.col("segment")
    )
    return scored.with_columns(
        pl.concat_str([pl.col(c).cast(pl.String) for c in ("r_score", "f_score", "m_score")]).alias(
            "rfm"
        ),
        segment.alias("segment"),
    ).with_columns(labels.alias("segment_ko"), labels_en.alias("segment_en"))
