"""Conditions over the customer record: birthday (solar and lunar), consent, home store."""

from __future__ import annotations

import calendar
import datetime as dt

from django.db.models import Exists, OuterRef, Q
from korean_lunar_calendar import KoreanLunarCalendar

from dangol.customers.models import BirthdayCalendar, ConsentEvent, ConsentKind, Customer
from dangol.segments.conditions.base import Condition, EvalContext, Param, register
from dangol.shops.models import Store


def lunar_month_days(days: list[dt.date]) -> tuple[set[int], set[int]]:
    """MMDD of the lunar dates falling on these solar days: (regular months, leap months)."""
    regular, leap = set(), set()
    converter = KoreanLunarCalendar()
    for day in days:
        converter.setSolarDate(day.year, day.month, day.day)
        md = converter.lunarMonth * 100 + converter.lunarDay
        (leap if converter.isIntercalation else regular).add(md)
    # A lunar month has 29 or 30 days: a "day 30" birthday in a 29-day month is kept on day 29.
    for found in (regular, leap):
        found.update([md + 1 for md in found if md % 100 == 29])
    return regular, leap


def solar_month_days(days: list[dt.date]) -> set[int]:
    found = {d.month * 100 + d.day for d in days}
    # 29 February birthdays are celebrated on 28 February in common years.
    if 228 in found and not any(calendar.isleap(d.year) for d in days if d.month == 2):
        found.add(229)
    return found


def birthday_q(days: list[dt.date]) -> Q:
    regular, leap = lunar_month_days(days)
    solar = Q(birthday_calendar=BirthdayCalendar.SOLAR, birthday_md__in=solar_month_days(days))
    lunar = Q(birthday_calendar=BirthdayCalendar.LUNAR, birthday_leap_month=False)
    lunar_leap = Q(birthday_calendar=BirthdayCalendar.LUNAR, birthday_leap_month=True)
    # A leap-month birthday is kept in the regular month of the same number in most years.
    return (
        solar
        | (lunar & Q(birthday_md__in=regular))
        | (lunar_leap & Q(birthday_md__in=regular | leap))
    )


def _birthday_values(ctx: EvalContext, customer_ids) -> dict:
    rows = Customer.objects.for_shop(ctx.shop).filter(
        pk__in=customer_ids, birthday_md__isnull=False
    )
    out = {}
    for pk, md, cal, leap in rows.values_list(
        "pk", "birthday_md", "birthday_calendar", "birthday_leap_month"
    ):
        prefix = ("음력 윤" if leap else "음력 ") if cal == BirthdayCalendar.LUNAR else ""
        out[pk] = f"{prefix}{md // 100}월 {md % 100}일"
    return out


class BirthdayWithin(Condition):
    key, group = "birthday_within", "birthday"
    ko, en = "생일이 다가오는 손님", "Birthday coming up"
    value_kind = "text"
    params = (Param("days", "int", "일 이내", "within days", minimum=0, maximum=60),)

    def q(self, params, ctx):
        days = [ctx.today + dt.timedelta(days=k) for k in range(params["days"] + 1)]
        return birthday_q(days)

    def values(self, params, ctx, customer_ids):
        return _birthday_values(ctx, customer_ids)

    def describe(self, params):
        d = params["days"]
        return f"생일이 {d}일 이내 (음력 포함)", f"birthday within {d} days (lunar too)"


class BirthdayMonth(Condition):
    key, group = "birthday_month", "birthday"
    ko, en = "생일이 있는 달", "Birthday month"
    value_kind = "text"
    params = (
        Param("month", "int", "달 (0 = 이번 달)", "month (0 = this month)", minimum=0, maximum=12),
    )

    def _days(self, params, ctx) -> list[dt.date]:
        year, month = ctx.today.year, params["month"] or ctx.today.month
        if params["month"] and month < ctx.today.month:
            year += 1
        last = calendar.monthrange(year, month)[1]
        return [dt.date(year, month, d) for d in range(1, last + 1)]

    def q(self, params, ctx):
        return birthday_q(self._days(params, ctx))

    def values(self, params, ctx, customer_ids):
        return _birthday_values(ctx, customer_ids)

    def describe(self, params):
        m = params["month"]
        if not m:
            return "이번 달 생일 (음력 포함)", "birthday this month (lunar too)"
        return f"{m}월 생일 (음력 포함)", f"birthday in month {m} (lunar too)"


CHANNELS = {
    "sms": ConsentKind.AD_SMS,
    "kakao": ConsentKind.AD_KAKAO,
    "email": ConsentKind.AD_EMAIL,
    "push": ConsentKind.AD_PUSH,
    "night": ConsentKind.AD_NIGHT,
    "marketing": ConsentKind.PIPA_MARKETING,
}


class Consent(Condition):
    """The consent in force for a channel: the latest event wins, none means not granted."""

    key, group = "consent", "consent"
    ko, en = "수신 동의", "Consent"
    value_kind = "bool"
    params = (
        Param("channel", "choice", "채널", "channel", choices=tuple(CHANNELS)),
        Param("granted", "bool", "동의함", "granted", required=False, default=True),
    )

    def _granted_ids(self, channel: str, ctx: EvalContext):
        kind = CHANNELS[channel]
        events = ConsentEvent.objects.for_shop(ctx.shop).filter(kind=kind)
        later = (
            ConsentEvent.objects.for_shop(ctx.shop)
            .filter(customer_id=OuterRef("customer_id"), kind=kind)
            .filter(
                Q(occurred_at__gt=OuterRef("occurred_at"))
                | Q(occurred_at=OuterRef("occurred_at"), pk__gt=OuterRef("pk"))
            )
        )
        return events.filter(granted=True).exclude(Exists(later)).values("customer_id")

    def q(self, params, ctx):
        granted = Q(pk__in=self._granted_ids(params["channel"], ctx))
        return granted if params.get("granted", True) else ~granted

    def values(self, params, ctx, customer_ids):
        ids = set(
            self._granted_ids(params["channel"], ctx)
            .filter(customer_id__in=customer_ids)
            .values_list("customer_id", flat=True)
        )
        return {k: k in ids for k in customer_ids}

    def describe(self, params):
        channel = CHANNELS[params["channel"]]
        label = str(channel.label)
        if params.get("granted", True):
            return f"{label} 동의", f"consented: {label}"
        return f"{label} 미동의", f"not consented: {label}"


class HomeStore(Condition):
    key, group = "home_store", "store"
    ko, en = "주 이용 지점", "Home store"
    value_kind = "text"
    params = (Param("stores", "ids", "지점", "stores"),)

    def q(self, params, ctx):
        return Q(home_store_id__in=params["stores"])

    def values(self, params, ctx, customer_ids):
        rows = Customer.objects.for_shop(ctx.shop).filter(pk__in=customer_ids)
        return {pk: name or "" for pk, name in rows.values_list("pk", "home_store__name")}

    def warnings(self, params, ctx):
        known = Store.objects.for_shop(ctx.shop).filter(pk__in=params["stores"]).count()
        if known < len(set(params["stores"])):
            return [("없어진 지점이 조건에 있어요.", "A store in this rule no longer exists.")]
        return []

    def describe(self, params):
        n = len(params["stores"])
        return f"주 이용 지점 {n}곳 중 하나", f"home store is one of {n}"


for _condition in (BirthdayWithin(), BirthdayMonth(), Consent(), HomeStore()):
    register(_condition)
