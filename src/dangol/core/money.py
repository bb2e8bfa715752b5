"""Money is integer KRW everywhere."""

from __future__ import annotations


def format_krw(amount: int | float | None) -> str:
    if amount is None:
        return "-"
    return f"{round(amount):,}원"
