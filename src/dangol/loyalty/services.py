"""Writes of the loyalty app. The rules live in one module per concept (points, stamps,
coupons, tiers, referrals); this module is the one place other apps import them from."""

from __future__ import annotations

from dangol.loyalty.points import (
    PolicyInput,
    points_adjust,
    points_bonus,
    points_earn_for_purchases,
    points_expire,
    points_policy_create,
    points_redeem,
    points_reverse_for_purchase,
)

__all__ = [
    "PolicyInput",
    "points_adjust",
    "points_bonus",
    "points_earn_for_purchases",
    "points_expire",
    "points_policy_create",
    "points_redeem",
    "points_reverse_for_purchase",
]
