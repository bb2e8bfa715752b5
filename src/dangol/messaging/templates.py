"""Message templates: ``{variables}`` and Korean particles that follow what precedes them.

    "{name}님, {favourite_item}{을/를} 준비했어요"  →  "지민님, 아메리카노를 준비했어요"

A particle token ``{이/가}`` (또는 을/를, 은/는, 과/와, 으로/로, 아/야, 이에요/예요, 이랑/랑)
becomes the form that fits the last sound of the text just before it, so a variable filled at
send time still reads naturally: "지민이", "민수가", "케이크를". Where the sound cannot be told
(a Latin name), both forms are shown: "Kim이(가)".
Templates are checked when saved: an unknown variable or an unbalanced brace is an error with
its position.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

VARIABLES: dict[str, tuple[str, str]] = {
    "name": ("고객 이름", "customer name"),
    "shop": ("매장 이름", "shop name"),
    "favourite_item": ("자주 사는 메뉴", "favourite item"),
    "points": ("포인트", "points"),
    "stamps": ("스탬프", "stamps"),
    "coupon_code": ("쿠폰 번호", "coupon code"),
    "coupon_expiry": ("쿠폰 유효기간", "coupon expiry"),
    "link": ("링크", "link"),
}
# (with a final consonant, without); 으로/로 also takes 로 after a final ㄹ.
PARTICLES: dict[str, tuple[str, str]] = {
    "이/가": ("이", "가"),
    "을/를": ("을", "를"),
    "은/는": ("은", "는"),
    "과/와": ("과", "와"),
    "으로/로": ("으로", "로"),
    "아/야": ("아", "야"),
    "이에요/예요": ("이에요", "예요"),
    "이랑/랑": ("이랑", "랑"),
}
# Whether the Korean reading of a final digit ends in a consonant: 영 일 이 삼 사 오 육 칠 팔 구.
_DIGIT_FINAL = {
    "0": True,
    "1": True,
    "2": False,
    "3": True,
    "4": False,
    "5": False,
    "6": True,
    "7": True,
    "8": True,
    "9": False,
}
_TOKEN = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class TemplateProblem:
    position: int  # 0-based character offset
    line: int
    column: int
    ko: str
    en: str


class TemplateError(ValueError):
    def __init__(self, problems: list[TemplateProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.line}:{p.column} {p.en}" for p in problems))


def _where(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column


def check_template(text: str) -> list[str]:
    """The variables a template uses; ``TemplateError`` lists every problem with its place."""
    problems: list[TemplateProblem] = []

    def fail(position: int, ko: str, en: str) -> None:
        line, column = _where(text, position)
        problems.append(TemplateProblem(position, line, column, ko, en))

    depth_open = None
    for i, ch in enumerate(text):
        if ch == "{":
            if depth_open is not None:
                fail(depth_open, "닫히지 않은 {가 있어요.", "Unclosed '{'.")
            depth_open = i
        elif ch == "}":
            if depth_open is None:
                fail(i, "여는 { 없이 }가 있어요.", "'}' without a matching '{'.")
            depth_open = None
    if depth_open is not None:
        fail(depth_open, "닫히지 않은 {가 있어요.", "Unclosed '{'.")
    used: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(1).strip()
        if token in VARIABLES:
            used.append(token)
        elif token not in PARTICLES:
            fail(
                match.start(),
                f"모르는 변수예요: {{{token}}}",
                f"Unknown variable {{{token}}}.",
            )
    if problems:
        raise TemplateError(sorted(problems, key=lambda p: p.position))
    return used


def has_final_consonant(text: str) -> bool | None:
    """Whether the text's last sound ends in a consonant (None if it cannot be told)."""
    for ch in reversed(text.rstrip()):
        if "가" <= ch <= "힣":
            return (ord(ch) - 0xAC00) % 28 != 0
        if ch.isdigit():
            return _DIGIT_FINAL[ch]
        if ch.isalpha():
            return None
        if ch in ")]\"'”’":
            continue
        return None
    return None


def _ends_in_rieul(text: str) -> bool:
    for ch in reversed(text.rstrip()):
        if "가" <= ch <= "힣":
            return (ord(ch) - 0xAC00) % 28 == 8
        if ch.isdigit():
            return ch in "178"  # 일, 칠, 팔
        return False
    return False


@functools.lru_cache(maxsize=512)
def _parts(text: str) -> tuple[tuple[str, str], ...]:
    """The template as (kind, value) parts: checked and split once per text, since a campaign
    renders the same template for every recipient."""
    check_template(text)
    parts: list[tuple[str, str]] = []
    last = 0
    for match in _TOKEN.finditer(text):
        parts.append(("text", text[last : match.start()]))
        token = match.group(1).strip()
        parts.append(("variable" if token in VARIABLES else "particle", token))
        last = match.end()
    parts.append(("text", text[last:]))
    return tuple(parts)


def render(text: str, values: Mapping[str, object]) -> str:
    """Fill variables and resolve particles; missing values render as empty text."""
    out: list[str] = []
    for kind, part in _parts(text):
        if kind == "text":
            out.append(part)
        elif kind == "variable":
            value = values.get(part)
            out.append("" if value is None else str(value))
        else:
            before = "".join(out)
            with_final, without = PARTICLES[part]
            final = has_final_consonant(before)
            if part == "으로/로" and _ends_in_rieul(before):
                out.append(without)
            elif final is None:
                out.append(f"{with_final}({without})" if len(without) == 1 else without)
            else:
                out.append(with_final if final else without)
    return "".join(out)
