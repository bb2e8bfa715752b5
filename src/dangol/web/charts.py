"""Small server-rendered SVG charts: no JavaScript, no third-party code, fast on a phone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def weekly_bars(
    points: list[tuple[dt.date, int]], *, width: int = 320, height: int = 80
) -> list[Bar]:
    if not points:
        return []
    top = max(v for _, v in points) or 1
    slot = width / len(points)
    bars = []
    for i, (week, value) in enumerate(points):
        h = (value / top) * (height - 14)
        bars.append(
            Bar(
                x=round(i * slot + slot * 0.15, 1),
                y=round(height - h, 1),
                width=round(slot * 0.7, 1),
                height=round(h, 1),
                label=f"{week.month}/{week.day}",
                value=value,
            )
        )
    return bars
