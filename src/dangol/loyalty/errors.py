"""Errors with a stable code and a message in Korean and English, for the API and the screens."""

from __future__ import annotations


class LoyaltyError(ValueError):
    """A refused loyalty action. ``code`` is stable (API clients and tests match on it)."""

    def __init__(self, code: str, ko: str, en: str):
        self.code, self.ko, self.en = code, ko, en
        super().__init__(f"{ko} / {en}")


class PointsError(LoyaltyError):
    pass


class CouponError(LoyaltyError):
    pass


class StampError(LoyaltyError):
    pass


class TierError(LoyaltyError):
    pass


class ReferralError(LoyaltyError):
    pass
