"""Cell text → values, in the forms people really type in Korean shops.

Every parser raises :class:`ValueProblem` with a bilingual reason; callers attach the row and
column. Dates are year-first (the Korean order); a two-digit year is 20yy unless that lies in
the future, then 19yy (birthdays).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from dangol.core.phone import InvalidPhone, normalize_phone


class ValueProblem(ValueError):
    def __init__(self, code: str, ko: str, en: str) -> None:
        super().__init__(en)
        self.code = code
        self.ko = ko
        self.en = en


EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# Excel serials from 1954 to 2119: a bare number in a date column outside this is no date.
_SERIAL_MIN, _SERIAL_MAX = 20_000, 80_000

_WEEKDAY = r"(?:\s*\(?[월화수목금토일](?:요일)?\)?)?"
_DATE = re.compile(
    r"^(?P<y>\d{4}|\d{2})\s*(?:[-./]|년)\s*(?P<m>\d{1,2})\s*(?:[-./]|월)\s*(?P<d>\d{1,2})"
    r"\s*(?:일)?\.?" + _WEEKDAY
)
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:[ T]?(?P<hms>\d{4}|\d{6}))?$")
_TIME = re.compile(
    r"^(?:T|\s+)?(?P<ap1>오전|오후|AM|PM|am|pm)?\s*(?P<h>\d{1,2})\s*(?::|시)\s*(?P<mi>\d{1,2})"
    r"\s*(?:분)?\s*(?:(?::)?\s*(?P<s>\d{1,2})(?:\.\d+)?\s*(?:초)?)?\s*"
    r"(?P<ap2>오전|오후|AM|PM|am|pm)?\s*(?:Z|[+-]\d{2}:?\d{2})?$"
)
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")


def _bad_date(text: str) -> ValueProblem:
    return ValueProblem(
        "date_invalid",
        f"날짜를 읽을 수 없습니다: {text!r} (예: 2025-08-11, 2025.8.11, 25/08/11, 2025년 8월 11일)",
        f"Not a date: {text!r} (e.g. 2025-08-11, 2025.8.11, 25/08/11, 2025년 8월 11일)",
    )


def _year(raw: str, today: dt.date) -> int:
    year = int(raw)
    if len(raw) == 2:
        year += 2000 if 2000 + year <= today.year + 1 else 1900
    return year


def parse_datetime(text: str, *, today: dt.date | None = None) -> dt.datetime:
    """A naive wall-clock time (the shop's local time); a date alone is midnight."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        raise ValueProblem("date_missing", "날짜가 비어 있습니다.", "The date is empty.")
    today = today or dt.date.today()
    if _SERIAL.match(raw):
        serial = float(raw)
        if not _SERIAL_MIN <= serial < _SERIAL_MAX:
            raise _bad_date(text)
        # Whole seconds: Excel stores times as fractions of a day with float noise.
        return EXCEL_EPOCH + dt.timedelta(seconds=round(serial * 86400))
    compact = _COMPACT.match(raw)
    if compact:
        y, m, d = int(compact["y"]), int(compact["m"]), int(compact["d"])
        hms = (compact["hms"] or "").ljust(6, "0")
        return _build(text, y, m, d, int(hms[:2]), int(hms[2:4]), int(hms[4:6]))
    match = _DATE.match(raw)
    if not match:
        raise _bad_date(text)
    year, month, day = _year(match["y"], today), int(match["m"]), int(match["d"])
    rest = raw[match.end() :]
    if not rest.strip():
        return _build(text, year, month, day, 0, 0, 0)
    time = _TIME.match(rest)
    if not time:
        raise _bad_date(text)
    hour = int(time["h"])
    ampm = (time["ap1"] or time["ap2"] or "").upper()
    if ampm:
        if not 1 <= hour <= 12:
            raise _bad_date(text)
        hour = hour % 12 + (12 if ampm in ("오후", "PM") else 0)
    return _build(text, year, month, day, hour, int(time["mi"]), int(time["s"] or 0))


def _build(text: str, *parts: int) -> dt.datetime:
    year = parts[0]
    if not 1900 <= year <= 2100:
        raise _bad_date(text)
    try:
        return dt.datetime(*parts)
    except ValueError as exc:
        raise ValueProblem(
            "date_impossible",
            f"없는 날짜나 시각입니다: {text!r}",
            f"No such date or time: {text!r}",
        ) from exc


def parse_date(text: str, *, today: dt.date | None = None) -> dt.date:
    return parse_datetime(text, today=today).date()


_MONTH_DAY = re.compile(r"^(\d{1,2})\s*(?:[-./]|월)\s*(\d{1,2})\s*일?$")


def is_month_day(text: str) -> bool:
    """`08-11` or `8월 11일`: a birthday without its year."""
    return bool(_MONTH_DAY.match(unicodedata.normalize("NFKC", text or "").strip()))


#: One sale's amount fits the database's integer column with room to add lines up.
MAX_AMOUNT = 1_000_000_000
_AMOUNT = re.compile(r"^(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?$")
_CURRENCY = re.compile(r"(?:원|₩|￦|krw|won)", re.IGNORECASE)


def parse_amount(text: str) -> int:
    """Whole won: `12,500원`, `₩12,500`, `12500.00`, `-3,000`, `(3,000)` (negative)."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        raise ValueProblem("amount_missing", "금액이 비어 있습니다.", "The amount is empty.")
    body = _CURRENCY.sub("", raw).replace(" ", "")
    negative = False
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1]
    if body.startswith("-"):
        negative, body = True, body[1:]
    elif body.endswith("-"):
        negative, body = True, body[:-1]
    elif body.startswith("+"):
        body = body[1:]
    match = _AMOUNT.match(body)
    if not match:
        raise ValueProblem(
            "amount_invalid",
            f"금액을 읽을 수 없습니다: {text!r} (예: 12,500 또는 12,500원)",
            f"Not an amount: {text!r} (e.g. 12,500 or 12,500원)",
        )
    if match["frac"] and int(match["frac"]):
        raise ValueProblem(
            "amount_fraction",
            f"원 단위 아래 금액은 쓸 수 없습니다: {text!r}",
            f"Amounts are whole won: {text!r}",
        )
    value = int(match["int"].replace(",", ""))
    if value > MAX_AMOUNT:
        raise ValueProblem(
            "amount_too_large",
            f"금액이 너무 큽니다: {text!r} (최대 {MAX_AMOUNT:,}원)",
            f"The amount is too large: {text!r} (at most {MAX_AMOUNT:,} won)",
        )
    return -value if negative else value


_QUANTITY = re.compile(r"^(\d{1,6})(?:\.0+)?\s*(?:개|잔|병|인분|ea|EA|pcs)?$")


def parse_quantity(text: str) -> int:
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        return 1
    match = _QUANTITY.match(raw)
    if not match or int(match[1]) < 1:
        raise ValueProblem(
            "quantity_invalid",
            f"수량은 1 이상의 정수여야 합니다: {text!r}",
            f"Quantity must be a whole number ≥ 1: {text!r}",
        )
    return int(match[1])


def parse_phone(text: str) -> str:
    try:
        return normalize_phone(unicodedata.normalize("NFKC", text or ""))
    except InvalidPhone as exc:
        ko, _, en = str(exc).partition(" / ")
        raise ValueProblem("phone_invalid", ko, en or ko) from exc


_YES = {"y", "yes", "true", "1", "o", "○", "●", "v", "✓", "예", "네", "동의", "수신", "수신동의"}
_NO = {
    "n",
    "no",
    "false",
    "0",
    "x",
    "×",
    "아니오",
    "아니요",
    "미동의",
    "비동의",
    "거부",
    "수신거부",
}


def parse_consent(text: str) -> bool | None:
    """True for an explicit yes, False for an explicit no, None for a blank (which never grants
    anything); anything else is a problem, never a guess."""
    raw = unicodedata.normalize("NFKC", text or "").strip().casefold().replace(" ", "")
    if not raw or raw in ("-", "미입력", "미확인"):
        return None
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise ValueProblem(
        "consent_invalid",
        f"동의 여부를 알 수 없습니다: {text!r} (Y/N, 동의/미동의 중 하나)",
        f"Unclear consent value: {text!r} (use Y/N or 동의/미동의)",
    )


_FEMALE = {"f", "female", "여", "여자", "여성", "w", "woman"}
_MALE = {"m", "male", "남", "남자", "남성", "man"}


def parse_gender(text: str) -> str:
    raw = unicodedata.normalize("NFKC", text or "").strip().casefold()
    if not raw or raw in ("-", "미입력", "알수없음"):
        return ""
    if raw in _FEMALE:
        return "F"
    if raw in _MALE:
        return "M"
    raise ValueProblem(
        "gender_invalid",
        f"성별을 알 수 없습니다: {text!r} (남/여, M/F)",
        f"Unknown gender: {text!r} (use 남/여 or M/F)",
    )


_ACTIVE_NO = {"n", "no", "false", "0", "x", "중지", "판매중지", "품절", "단종", "미판매"}


def parse_active(text: str) -> bool:
    raw = unicodedata.normalize("NFKC", text or "").strip().casefold()
    return raw not in _ACTIVE_NO


_FORMULA = re.compile(r"^[=+@-]\s*[A-Za-z_][A-Za-z0-9_.]*\s*\(|^=")


def clean_text(text: str, *, limit: int, label_ko: str, label_en: str) -> str:
    """Trimmed text with control characters removed; longer than the field allows is a problem
    (never cut silently), and so is a spreadsheet formula (`=HYPERLINK(…)`), which is no name
    and would run when someone opens an export."""
    value = "".join(
        ch for ch in (text or "") if ch in "\t" or unicodedata.category(ch)[0] != "C"
    ).strip()
    if len(value) > limit:
        raise ValueProblem(
            "text_too_long",
            f"{label_ko}이(가) 너무 깁니다 ({len(value):,}자, 최대 {limit}자).",
            f"The {label_en} is too long ({len(value):,} characters, at most {limit}).",
        )
    if _FORMULA.match(value):
        raise ValueProblem(
            "formula_like",
            f"{label_ko}이(가) 엑셀 수식처럼 보입니다 (=, +, -, @로 시작). 수식이 아닌 값으로 "
            "바꾸세요.",
            f"The {label_en} looks like a spreadsheet formula (starts with =, +, - or @); "
            "replace it with plain text.",
        )
    return value


_STATUS = {
    "paid": {
        "",
        "결제",
        "결제완료",
        "완료",
        "정상",
        "승인",
        "판매",
        "paid",
        "ok",
        "배달완료",
        "주문완료",
        "처리완료",
        "픽업완료",
    },
    "cancelled": {
        "취소",
        "결제취소",
        "주문취소",
        "승인취소",
        "취소완료",
        "cancel",
        "cancelled",
        "canceled",
    },
    "refunded": {"환불", "환불완료", "반품", "refund", "refunded"},
    "partially_refunded": {"부분환불", "부분취소", "partial refund", "partially refunded"},
}


def parse_status(text: str) -> str:
    raw = unicodedata.normalize("NFKC", text or "").strip().casefold()
    for status, words in _STATUS.items():
        if raw in words or raw.replace(" ", "") in words:
            return status
    raise ValueProblem(
        "status_invalid",
        f"거래 상태를 알 수 없습니다: {text!r} (결제완료, 취소, 환불, 부분환불)",
        f"Unknown sale status: {text!r} (paid, cancelled, refunded, partially refunded)",
    )
