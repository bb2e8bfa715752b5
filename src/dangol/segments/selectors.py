"""Reads for segments: lists with counts, live previews, members, and why someone is in one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from dangol.customers.models import Customer
from dangol.segments.engine import (
    Reason,
    context_for,
    customers_matching,
    explain,
    rule_warnings,
)
from dangol.segments.models import Segment, SegmentCount, SegmentMembership
from dangol.segments.rules import parse_rule
from dangol.shops.models import Shop

TREND_DAYS = 30


def segment_list(*, shop: Shop, archived: bool = False) -> QuerySet[Segment]:
    """Owner-made segments first, then the built-in pack, each with its stored member count."""
    return (
        Segment.objects.for_shop(shop)
        .filter(archived=archived)
        .order_by("builtin_key", "-updated_at", "pk")
    )


def segment_get(*, shop: Shop, segment_id: int) -> Segment:
    return get_object_or_404(Segment.objects.for_shop(shop), pk=segment_id)


def segment_trends(*, shop: Shop, segments: list[Segment]) -> dict[int, list[int]]:
    """Daily member counts of the last ``TREND_DAYS`` days per segment, oldest first."""
    since = timezone.localdate() - dt.timedelta(days=TREND_DAYS)
    rows = (
        SegmentCount.objects.for_shop(shop)
        .filter(segment__in=segments, day__gte=since)
        .order_by("day")
        .values_list("segment_id", "members")
    )
    out: dict[int, list[int]] = {s.pk: [] for s in segments}
    for segment_id, members in rows:
        out[segment_id].append(members)
    return out


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[Customer]
    warnings: list[tuple[str, str]]


def segment_preview(*, shop: Shop, rule: Any, sample_size: int = 5) -> Preview:
    """Live count and a few members of a rule being edited (``RuleError`` if it is invalid)."""
    node = parse_rule(rule)
    ctx = context_for(shop=shop)
    matching = customers_matching(node, ctx)
    return Preview(
        count=matching.count(),
        sample=list(matching.order_by("-pk")[:sample_size]),
        warnings=rule_warnings(node, ctx),
    )


def segment_members(*, shop: Shop, segment: Segment) -> QuerySet[Customer]:
    """Who is in the segment now, by the rule evaluated live (not the last refresh)."""
    return customers_matching(parse_rule(segment.rule), context_for(shop=shop)).order_by("-pk")


def segment_why(*, shop: Shop, segment: Segment, customer: Customer) -> list[Reason]:
    return explain(parse_rule(segment.rule), context_for(shop=shop), customer)


def segment_history(*, shop: Shop, segment: Segment, limit: int = 20) -> list[SegmentMembership]:
    """Stays by their latest event (the exit if they left, else the entry), newest first, so a
    long-standing member who just left is at the top."""
    latest = Coalesce("exited_at", "entered_at")
    return list(
        SegmentMembership.objects.for_shop(shop)
        .filter(segment=segment)
        .select_related("customer")
        .order_by(latest.desc(), "-pk")[:limit]
    )


def segment_warnings(*, shop: Shop, segment: Segment) -> list[tuple[str, str]]:
    return rule_warnings(parse_rule(segment.rule), context_for(shop=shop))
