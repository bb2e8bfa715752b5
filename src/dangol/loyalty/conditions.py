"""Segment conditions over loyalty data, registered from ``LoyaltyConfig.ready``.

Each is one grouped subquery over an append-only ledger (set-based, no Python loop over
customers). The points balance is the posted ledger: it equals the derived balance once the
nightly expiry (00:10) has run, which is before the nightly segment refresh (04:30).
"""

from __future__ import annotations

from django.db.models import Q, Sum

from dangol.loyalty.models import CustomerTier, PointsEntry, StampCard, StampEntry
from dangol.segments.conditions.base import (
    LOOKUPS,
    Condition,
    compare,
    op_param,
    op_words,
    register,
)
from dangol.segments.conditions.purchases import aggregate_q, aggregate_values


class PointsBalance(Condition):
    key, group = "points_balance", "loyalty"
    ko, en = "포인트 잔액", "Points balance"
    params = op_param(maximum=10**8)

    def _rows(self, ctx):
        return PointsEntry.objects.for_shop(ctx.shop).order_by()

    def q(self, params, ctx):
        return aggregate_q(self._rows(ctx), Sum("points"), params["op"], params["value"], zero=0)

    def values(self, params, ctx, customer_ids):
        return aggregate_values(self._rows(ctx), Sum("points"), customer_ids, zero=0)

    def describe(self, params):
        ko, en = op_words(params["op"], f"{params['value']:,}", "점", "points")
        return f"포인트 {ko}", f"points balance {en}"


class Stamps(Condition):
    key, group = "stamps", "loyalty"
    ko, en = "도장 개수", "Stamps on the card"
    params = op_param(maximum=1000)

    def _rows(self, ctx):
        active = StampCard.objects.for_shop(ctx.shop).filter(active=True).values("pk")
        return StampEntry.objects.for_shop(ctx.shop).filter(card_id__in=active).order_by()

    def q(self, params, ctx):
        return aggregate_q(self._rows(ctx), Sum("stamps"), params["op"], params["value"], zero=0)

    def values(self, params, ctx, customer_ids):
        return aggregate_values(self._rows(ctx), Sum("stamps"), customer_ids, zero=0)

    def describe(self, params):
        ko, en = op_words(params["op"], params["value"], "개", "stamps")
        return f"도장 {ko}", f"{en} on the stamp card"


class TierLevel(Condition):
    """The customer's current tier level (0: no tier)."""

    key, group = "tier_level", "loyalty"
    ko, en = "등급", "Tier level"
    params = op_param(maximum=20)

    # The level is read through the tier: one join inside the subquery.

    def _rows(self, ctx):
        return CustomerTier.objects.for_shop(ctx.shop).order_by()

    def q(self, params, ctx):
        op, value = params["op"], params["value"]
        lookup = {f"tier__level__{LOOKUPS[op]}": value}
        if compare(op, 0, value):  # customers without a tier (level 0) match too
            return ~Q(pk__in=self._rows(ctx).exclude(**lookup).values("customer_id"))
        return Q(pk__in=self._rows(ctx).filter(**lookup).values("customer_id"))

    def values(self, params, ctx, customer_ids):
        found = dict(
            self._rows(ctx)
            .filter(customer_id__in=customer_ids)
            .values_list("customer_id", "tier__level")
        )
        return {i: found.get(i, 0) for i in customer_ids}

    def describe(self, params):
        ko, en = op_words(params["op"], params["value"], "등급", "")
        return f"등급 {ko}", f"tier level {en}".strip()


def register_all() -> None:
    for condition in (PointsBalance(), Stamps(), TierLevel()):
        register(condition)
