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


@dataclass(frozen=True)
class Sparkline:
    points: str  # "x,y x,y ..." for an SVG polyline
    last_x: float
    last_y: float
    low: int
    high: int
    days: int


def sparkline(values: list[int], *, width: int = 100, height: int = 24) -> Sparkline | None:
    """A trend line of daily counts, oldest first; None until there are two days to join."""
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = width / (len(values) - 1)
    pad = 2
    coords = [
        (round(i * step, 1), round(height - pad - (v - low) / span * (height - 2 * pad), 1))
        for i, v in enumerate(values)
    ]
    if high == low:  # a flat line sits in the middle
        coords = [(x, height / 2) for x, _ in coords]
    return Sparkline(
        points=" ".join(f"{x},{y}" for x, y in coords),
        last_x=coords[-1][0],
        last_y=coords[-1][1],
        low=low,
        high=high,
        days=len(values),
    )
