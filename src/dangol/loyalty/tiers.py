"""Tiers (writes): membership levels by spend or visits over a rolling window."""

from __future__ import annotations

from collections.abc import Sequence

from dangol.shops.models import Shop


def tier_earn_multipliers(*, shop: Shop, customer_ids: Sequence[int]) -> dict[int, int]:
    """The earn multiplier (percent) of each customer's current tier; 100 when none."""
    return {}
