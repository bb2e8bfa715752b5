"""Writes for segments: create, change, copy, archive, and refresh who is in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.utils import timezone

from dangol.segments.builtins import BUILTINS
from dangol.segments.engine import context_for, customers_matching
from dangol.segments.models import Segment, SegmentCount, SegmentMembership
from dangol.segments.rules import Problem, RuleError, parse_rule
from dangol.shops.models import Shop


class SegmentError(ValueError):
    def __init__(self, ko: str, en: str, *, field: str = ""):
        self.ko, self.en, self.field = ko, en, field
        super().__init__(f"{ko} / {en}")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise RuleError([Problem("name", "이름을 입력하세요.", "A name is required.")])
    if len(name) > 80:
        raise RuleError([Problem("name", "이름은 80자까지입니다.", "At most 80 characters.")])
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > 200:
        raise RuleError(
            [Problem("description", "설명은 200자까지입니다.", "At most 200 characters.")]
        )
    return description


def segment_create(
    *, shop: Shop, name: str, rule: Any, description: str = "", user: Any = None
) -> Segment:
    """A new owner-made segment; ``RuleError`` lists every problem of the rule by field."""
    parse_rule(rule)
    return Segment.objects.for_shop(shop).create(
        shop=shop,
        name=_clean_name(name),
        description=_clean_description(description),
        rule=rule,
        created_by=user if user is not None and user.is_authenticated else None,
    )


def segment_update(*, segment: Segment, name: str, rule: Any, description: str = "") -> Segment:
    if segment.builtin_key:
        raise SegmentError(
            "기본 세그먼트는 바꿀 수 없어요. 복사해서 고쳐 주세요.",
            "Built-in segments cannot be changed; copy one to edit it.",
        )
    parse_rule(rule)
    segment.name = _clean_name(name)
    segment.description = _clean_description(description)
    segment.rule = rule
    segment.updated_at = timezone.now()
    segment.save(update_fields=["name", "description", "rule", "updated_at"])
    return segment


def segment_copy(*, segment: Segment, user: Any = None) -> Segment:
    return segment_create(
        shop=segment.shop,
        name=f"{segment.name[:75]} (사본)",
        description=segment.description,
        rule=segment.rule,
        user=user,
    )


@transaction.atomic
def segment_archive(*, segment: Segment) -> Segment:
    """Hide a segment and close its open memberships (their history stays)."""
    if segment.builtin_key:
        raise SegmentError("기본 세그먼트는 보관할 수 없어요.", "Built-in segments stay.")
    segment.archived = True
    segment.save(update_fields=["archived"])
    SegmentMembership.objects.for_shop(segment.shop_id).filter(
        segment=segment, exited_at__isnull=True
    ).update(exited_at=timezone.now())
    return segment


def segment_builtins_install(*, shop: Shop) -> int:
    """Create the built-in pack's segments the shop does not have yet; returns how many."""
    have = set(
        Segment.objects.for_shop(shop).exclude(builtin_key="").values_list("builtin_key", flat=True)
    )
    missing = [
        Segment(shop=shop, name=b.name, description=b.description, rule=b.rule, builtin_key=b.key)
        for b in BUILTINS
        if b.key not in have
    ]
    Segment.objects.for_shop(shop).bulk_create(missing)
    return len(missing)


# Scratch table holding one segment's current members while its stays are brought in line.
_MEMBERS = "dangol_segment_members"


def _load_members(cursor, query) -> int:
    """Evaluate the segment once into the scratch table; returns how many members it has."""
    vendor = connection.vendor
    cursor.execute(f"DROP TABLE IF EXISTS {_MEMBERS}")
    if vendor == "postgresql":
        cursor.execute(f"CREATE TEMPORARY TABLE {_MEMBERS} (id bigint PRIMARY KEY) ON COMMIT DROP")
    else:
        cursor.execute(f"CREATE TEMPORARY TABLE {_MEMBERS} (id INTEGER PRIMARY KEY)")
    try:
        sql, params = query.sql_with_params()
    except EmptyResultSet:  # a rule that can match no one (e.g. scores before the first run)
        return 0
    # One row per customer already (the rule only filters customers), so no DISTINCT.
    cursor.execute(f"INSERT INTO {_MEMBERS} (id) {sql}", params)
    count = cursor.rowcount
    if vendor == "postgresql":
        cursor.execute(f"ANALYZE {_MEMBERS}")
    return count


@transaction.atomic
def segment_refresh(*, segment: Segment, now: dt.datetime | None = None) -> tuple[int, int]:
    """Bring the membership table in line with the rule: who entered, who left (returned).

    Set-based: the rule is evaluated once into a scratch table, then one UPDATE closes the stays
    of those no longer in it and one INSERT ... SELECT opens stays for those newly in it."""
    now = now or timezone.now()
    shop = segment.shop
    ctx = context_for(shop=shop, now=now)
    members = customers_matching(parse_rule(segment.rule), ctx).order_by().values("pk")
    table = SegmentMembership._meta.db_table  # the model's own table name, not input
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        count = _load_members(cursor, members.query)
        cursor.execute(
            f"UPDATE {table} SET exited_at = %s "  # noqa: S608
            "WHERE shop_id = %s AND segment_id = %s AND exited_at IS NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {_MEMBERS} n WHERE n.id = {table}.customer_id)",
            [at, shop.pk, segment.pk],
        )
        exited = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} (shop_id, segment_id, customer_id, entered_at, exited_at) "  # noqa: S608
            f"SELECT %s, %s, n.id, %s, NULL FROM {_MEMBERS} n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} m WHERE m.shop_id = %s "
            "AND m.segment_id = %s AND m.customer_id = n.id AND m.exited_at IS NULL) "
            "ORDER BY n.id",
            [shop.pk, segment.pk, at, shop.pk, segment.pk],
        )
        entered = cursor.rowcount
        cursor.execute(f"DROP TABLE IF EXISTS {_MEMBERS}")
    segment.member_count = count
    segment.refreshed_at = now
    segment.save(update_fields=["member_count", "refreshed_at"])
    SegmentCount.objects.for_shop(shop).update_or_create(
        shop=shop,
        segment=segment,
        day=timezone.localtime(now).date(),
        defaults={"members": count},
    )
    return entered, exited


def shop_segments_refresh(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """Install missing built-ins and refresh every live segment of the shop."""
    segment_builtins_install(shop=shop)
    segments = list(Segment.objects.for_shop(shop).filter(archived=False).order_by("pk"))
    for segment in segments:
        segment_refresh(segment=segment, now=now)
    return len(segments)
