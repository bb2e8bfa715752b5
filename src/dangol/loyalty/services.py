"""Writes of the loyalty app. The rules live in one module per concept (points, stamps,
coupons, tiers, referrals); this module is the one place other apps import them from."""

from __future__ import annotations

from dangol.loyalty.coupons import (
    CouponTemplateInput,
    coupon_check,
    coupon_issue,
    coupon_redeem,
    coupon_template_create,
    coupon_void,
)
from dangol.loyalty.demo import loyalty_demo_setup
from dangol.loyalty.points import (
    points_adjust,
    points_bonus,
    points_earn_for_purchases,
    points_expire,
    points_redeem,
    points_reverse_for_purchase,
)
from dangol.loyalty.policies import PolicyInput, points_policy_create
from dangol.loyalty.referrals import (
    referral_code_issue,
    referral_program_set,
    referral_register,
    referral_review,
    referrals_reward_for_purchases,
)
from dangol.loyalty.stamps import (
    StampCardInput,
    stamp_add,
    stamp_card_create,
    stamp_card_switch_off,
    stamps_award_for_purchases,
    stamps_reverse_for_purchase,
)
from dangol.loyalty.tiers import tier_create, tier_program_set, tiers_evaluate

__all__ = [
    "CouponTemplateInput",
    "PolicyInput",
    "StampCardInput",
    "coupon_check",
    "coupon_issue",
    "coupon_redeem",
    "coupon_template_create",
    "coupon_void",
    "loyalty_demo_setup",
    "points_adjust",
    "points_bonus",
    "points_earn_for_purchases",
    "points_expire",
    "points_policy_create",
    "points_redeem",
    "points_reverse_for_purchase",
    "referral_code_issue",
    "referral_program_set",
    "referral_register",
    "referral_review",
    "referrals_reward_for_purchases",
    "stamp_add",
    "stamp_card_create",
    "stamp_card_switch_off",
    "stamps_award_for_purchases",
    "stamps_reverse_for_purchase",
    "tier_create",
    "tier_program_set",
    "tiers_evaluate",
]
