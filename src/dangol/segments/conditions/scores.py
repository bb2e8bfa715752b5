"""Conditions over the latest score snapshot (dangol.scoring): status, RFM, churn, value, habit.

Before a shop's first scoring they match nobody and say so in a warning.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from dangol.scoring.models import CustomerScore, CustomerStatus, RfmSegment
from dangol.segments.conditions.base import (
    LOOKUPS,
    Condition,
    EvalContext,
    Param,
    op_param,
    op_words,
    register,
)

NO_SCORES = (
    "아직 점수가 없어 이 조건에 맞는 손님이 없어요.",
    "No scores yet, so nobody matches this condition.",
)
# Fewer visits than this are not a weekday habit (the scoring's own rule).
MIN_HABIT_VISITS = 4
WEEKDAYS_KO = ("월", "화", "수", "목", "금", "토", "일")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def scores(ctx: EvalContext) -> QuerySet[CustomerScore]:
    if ctx.latest_run is None:
        return CustomerScore.objects.for_shop(ctx.shop).none()
    return CustomerScore.objects.for_shop(ctx.shop).filter(run=ctx.latest_run).order_by()


class ScoreCondition(Condition):
    group = "scores"
    field = ""

    def filter(self, params) -> Q:
        raise NotImplementedError

    def q(self, params, ctx):
        return Q(pk__in=scores(ctx).filter(self.filter(params)).values("customer_id"))

    def narrow(self, params, ctx):
        return ("scores", scores(ctx), self.filter(params))

    def values(self, params, ctx, customer_ids):
        rows = scores(ctx).filter(customer_id__in=customer_ids)
        return dict(rows.values_list("customer_id", self.field))

    def warnings(self, params, ctx):
        return [NO_SCORES] if ctx.latest_run is None else []


class Compared(ScoreCondition):
    def __init__(self, key, field, ko, en, *, maximum, kind="float", unit=("", "")):
        self.key, self.field, self.ko, self.en, self.unit = key, field, ko, en, unit
        self.params = op_param(maximum=maximum, kind=kind)

    def filter(self, params):
        return Q(**{f"{self.field}__{LOOKUPS[params['op']]}": params["value"]})

    def describe(self, params):
        value = params["value"]
        shown = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        ko, en = op_words(params["op"], shown, *self.unit)
        return f"{self.ko} {ko}", f"{self.en.lower()} {en}"


class OneOf(ScoreCondition):
    value_kind = "text"

    def __init__(self, key, field, ko, en, choices):
        self.key, self.field, self.ko, self.en, self.choices = key, field, ko, en, choices
        self.params = (
            Param("values", "choices", "값", "values", choices=tuple(c for c, _ in choices)),
        )

    def filter(self, params):
        return Q(**{f"{self.field}__in": params["values"]})

    def values(self, params, ctx, customer_ids):
        labels = dict(self.choices)
        return {
            k: str(labels.get(v, v)) for k, v in super().values(params, ctx, customer_ids).items()
        }

    def describe(self, params):
        labels = dict(self.choices)
        names = ", ".join(str(labels.get(v, v)) for v in params["values"])
        return f"{self.ko}: {names}", f"{self.en}: {names}"


class NextVisitWithin(ScoreCondition):
    key, field = "next_visit_within", "expected_next_visit"
    ko, en = "다음 방문 예상일", "Expected next visit"
    value_kind = "date"
    params = (Param("days", "int", "일 이내", "within days", minimum=0, maximum=365),)

    def _between(self, params, ctx) -> Q:
        last = ctx.today + dt.timedelta(days=params["days"])
        return Q(expected_next_visit__gte=ctx.today, expected_next_visit__lte=last)

    def q(self, params, ctx):
        return Q(pk__in=scores(ctx).filter(self._between(params, ctx)).values("customer_id"))

    def narrow(self, params, ctx):
        return ("scores", scores(ctx), self._between(params, ctx))

    def describe(self, params):
        d = params["days"]
        return f"다음 방문 예상일이 {d}일 이내", f"expected back within {d} days"


class WeekdayHabit(ScoreCondition):
    key, field = "weekday_habit", "habit_weekday"
    ko, en = "자주 오는 요일", "Usual weekday"
    value_kind = "text"
    params = (Param("weekday", "choice", "요일", "weekday", choices=[str(d) for d in range(1, 8)]),)

    def filter(self, params):
        return Q(habit_weekday=int(params["weekday"]), visits__gte=MIN_HABIT_VISITS)

    def values(self, params, ctx, customer_ids):
        rows = scores(ctx).filter(customer_id__in=customer_ids, visits__gte=MIN_HABIT_VISITS)
        return {
            k: f"{WEEKDAYS_KO[v - 1]}요일"
            for k, v in rows.values_list("customer_id", "habit_weekday")
            if v
        }

    def describe(self, params):
        d = int(params["weekday"])
        return f"주로 {WEEKDAYS_KO[d - 1]}요일에 방문", f"usually comes on {WEEKDAYS_EN[d - 1]}"


for _condition in (
    OneOf("status", "status", "고객 상태", "Status", CustomerStatus.choices),
    OneOf("rfm_segment", "rfm_segment", "RFM 그룹", "RFM group", RfmSegment.choices),
    Compared("churn_probability", "churn_probability", "이탈 확률", "Churn probability", maximum=1),
    Compared("p_alive", "p_alive", "활성 확률", "Probability still a customer", maximum=1),
    Compared(
        "clv",
        "clv",
        "12개월 예상 매출",
        "12-month value",
        maximum=10**12,
        kind="int",
        unit=("원", "KRW"),
    ),
    Compared("overdue_ratio", "overdue_ratio", "방문 지연 비율", "Overdue ratio", maximum=1000),
    NextVisitWithin(),
    WeekdayHabit(),
):
    register(_condition)
