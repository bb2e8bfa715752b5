"""The built-in segment pack: what the peers ship and what the seeds asked for, in Korean.

Owners cannot edit these (they are the shop's shared vocabulary) but can copy any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dangol.scoring.models import RfmSegment


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    description: str
    rule: dict[str, Any]


def _c(condition: str, **params: Any) -> dict[str, Any]:
    return {"condition": condition, **params}


BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        "vip",
        "VIP",
        "최근 30일 동안 2번 이상 오신 손님",
        _c("visits", op="gte", value=2, days=30),
    ),
    Builtin(
        "regulars",
        "단골",
        "최근 3개월 동안 7번 이상 오신 손님",
        _c("visits", op="gte", value=7, days=90),
    ),
    Builtin(
        "weekly",
        "주 1회 이상 방문",
        "최근 4주 동안 4번 이상 오신 손님",
        _c("visits", op="gte", value=4, days=28),
    ),
    Builtin(
        "three_in_three_months",
        "3개월간 3회 이상 구매",
        "최근 90일 동안 3번 이상 구매한 손님",
        _c("visits", op="gte", value=3, days=90),
    ),
    Builtin(
        "new",
        "신규",
        "첫 방문이 최근 30일 안인 손님",
        _c("first_visit_days_ago", op="lt", value=30),
    ),
    Builtin(
        "one_and_done",
        "1회 방문 후 미재방문",
        "한 번 오시고 30일이 넘도록 다시 오지 않은 손님",
        {"all": [_c("visits", op="eq", value=1), _c("days_since_last_visit", op="gte", value=30)]},
    ),
    Builtin(
        "dormant",
        "휴면",
        "60일 동안 방문이 없는 손님",
        _c("days_since_last_visit", op="gte", value=60),
    ),
    Builtin(
        "at_risk",
        "이탈 위험",
        "90일 넘게 오지 않았거나, 이탈 확률이 70% 이상인 손님",
        {
            "any": [
                _c("days_since_last_visit", op="gte", value=90),
                _c("churn_probability", op="gte", value=0.7),
            ]
        },
    ),
    Builtin(
        "lapsed_regulars",
        "떠난 단골",
        "자주 오시다가 두 달 넘게, 평소 간격의 세 배 넘게 오지 않은 손님",
        _c("status", values=["lapsed"]),
    ),
    Builtin(
        "broken_habit",
        "습관이 깨진 단골",
        "늘 오시던 요일에 두 번 이상 연속 오지 않은 단골",
        _c("status", values=["broken_habit"]),
    ),
    Builtin(
        "thursday_broken",
        "목요일 단골 중 2주 연속 미방문",
        "목요일마다 오시던 단골이 두 번 이상 연속 오지 않았어요",
        {"all": [_c("weekday_habit", weekday="4"), _c("status", values=["broken_habit"])]},
    ),
    Builtin(
        "top_ticket",
        "상위 10% 객단가",
        "한 번에 쓰는 금액이 상위 10%인 손님",
        _c("rank", measure="avg_ticket", top_percent=10),
    ),
    Builtin(
        "summer_only",
        "여름에만 오는 손님",
        "6~8월에만 두 번 이상 오신 손님",
        {
            "all": [
                _c("only_months", months=["6", "7", "8"]),
                _c("visits", op="gte", value=2),
            ]
        },
    ),
    Builtin(
        "birthday_this_month",
        "이번 달 생일",
        "이번 달에 생일이 있는 손님 (음력 생일 포함)",
        _c("birthday_month", month=0),
    ),
    *(
        Builtin(
            f"rfm_{value}",
            f"RFM · {label}",
            "최근성·빈도·금액 점수로 나눈 그룹",
            _c("rfm_segment", values=[str(value)]),
        )
        for value, label in (
            (RfmSegment.CHAMPIONS, "챔피언"),
            (RfmSegment.LOYAL, "충성 고객"),
            (RfmSegment.POTENTIAL_LOYALIST, "잠재 충성 고객"),
            (RfmSegment.NEW, "신규 고객"),
            (RfmSegment.PROMISING, "유망 고객"),
            (RfmSegment.NEED_ATTENTION, "관심 필요"),
            (RfmSegment.ABOUT_TO_SLEEP, "잠들기 직전"),
            (RfmSegment.AT_RISK, "이탈 위험"),
            (RfmSegment.CANT_LOSE, "놓치면 안 될 고객"),
            (RfmSegment.HIBERNATING, "동면 고객"),
            (RfmSegment.LOST, "이탈 고객"),
        )
    ),
)
BY_KEY = {b.key: b for b in BUILTINS}
