"""Points, stamps, tiers, coupons and referrals: what keeps a regular coming back."""
