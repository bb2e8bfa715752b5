"""Property tests of the whole-column fast path against the Python parsers it stands in for:
wherever the fast path gives a value, the parser gives the same one (and no problem), and the
forms exports really use do take the fast path."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from dangol.imports.columns import amounts_fast, datetimes_fast
from dangol.imports.values import MAX_AMOUNT, ValueProblem, parse_amount, parse_datetime

todays = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))


def _number(value: int, *, pad: bool) -> str:
    return f"{value:02d}" if pad else str(value)


@st.composite
def date_texts(draw) -> str:
    """Every shape ``parse_datetime`` reads and plenty it rejects: out-of-range fields,
    impossible days, 24 h, leap seconds, odd separators, weekdays, 오전/오후, offsets, serials,
    compact dates, full-width digits."""
    year = draw(st.integers(min_value=1850, max_value=2150))
    year_text = draw(st.sampled_from([str(year), f"{year % 100:02d}", str(year % 1000)]))
    month = draw(st.integers(min_value=0, max_value=13))
    day = draw(st.integers(min_value=0, max_value=32))
    pad = draw(st.booleans())
    space = draw(st.sampled_from(["", " ", "  "]))
    seps = draw(st.sampled_from([("-", "-"), (".", "."), ("/", "/"), ("년", "월"), ("-", ".")]))
    text = (
        f"{year_text}{space}{seps[0]}{space}{_number(month, pad=pad)}{space}{seps[1]}{space}"
        f"{_number(day, pad=pad)}"
    )
    text += draw(st.sampled_from(["", "일", " 일", ".", "일.", " (월)", "(화요일)"]))
    if draw(st.booleans()):
        hour = draw(st.integers(min_value=0, max_value=25))
        minute = draw(st.integers(min_value=0, max_value=61))
        clock = f"{_number(hour, pad=pad)}:{_number(minute, pad=pad)}"
        if draw(st.booleans()):
            clock += ":" + _number(draw(st.integers(min_value=0, max_value=61)), pad=pad)
        clock += draw(st.sampled_from(["", "", ".5", "Z", "+09:00", " PM", "시"]))
        text += draw(st.sampled_from([" ", "T", "  ", "", " 오후 "])) + clock
    return text


def _same_as_parser(texts: list[str], today: dt.date) -> None:
    fast = datetimes_fast(texts, today=today)
    assert len(fast) == len(texts)
    for text, value in zip(texts, fast, strict=True):
        if value is not None:
            assert parse_datetime(text, today=today) == value, text


@settings(max_examples=250)
@given(st.lists(date_texts(), min_size=1, max_size=8), todays)
def test_fast_datetimes_agree_with_the_parser(texts, today):
    _same_as_parser(texts, today)


@settings(max_examples=200)
@given(st.lists(st.text(max_size=24), min_size=1, max_size=8), todays)
def test_fast_datetimes_never_read_what_the_parser_would_not(texts, today):
    _same_as_parser(texts, today)


moments = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31))


@given(moments, todays)
def test_the_usual_forms_take_the_fast_path(moment, today):
    moment = moment.replace(microsecond=0)
    forms = [
        f"{moment:%Y-%m-%d %H:%M:%S}",
        f"{moment:%Y-%m-%d %H:%M}",
        f"{moment:%Y-%m-%dT%H:%M:%S}",
        f"{moment.year}.{moment.month}.{moment.day}",
        f"{moment:%Y/%m/%d %H:%M}",
        f"{moment.year}년 {moment.month}월 {moment.day}일",
        f"{moment:%y/%m/%d}",
    ]
    fast = datetimes_fast(forms, today=today)
    for text, value in zip(forms, fast, strict=True):
        assert value is not None, text
        assert value == parse_datetime(text, today=today), text


@st.composite
def amount_texts(draw) -> str:
    value = draw(st.integers(min_value=0, max_value=MAX_AMOUNT * 20))
    digits = draw(
        st.sampled_from(
            [str(value), f"{value:,}", f"{value:,}".replace(",", ",0"), f"0{value}", f"{value:_}"]
        )
    )
    digits += draw(st.sampled_from(["", "", ".00", ".0", ".5", ".", ".000"]))
    sign = draw(st.sampled_from(["", "", "-", "+", "(", "−"]))
    text = sign + digits + (")" if sign == "(" else "")
    text += draw(st.sampled_from(["", "원", " 원", "won", "KRW", "-"]))
    return draw(st.sampled_from(["", "₩", "￦", " "])) + text


def _amounts_same_as_parser(texts: list[str]) -> None:
    fast = amounts_fast(texts)
    assert len(fast) == len(texts)
    for text, value in zip(texts, fast, strict=True):
        if value is not None:
            assert parse_amount(text) == value, text


@settings(max_examples=250)
@given(st.lists(amount_texts(), min_size=1, max_size=8))
def test_fast_amounts_agree_with_the_parser(texts):
    _amounts_same_as_parser(texts)


@settings(max_examples=200)
@given(st.lists(st.text(alphabet="0123456789,.-원₩ ()１２", max_size=16), min_size=1, max_size=8))
def test_fast_amounts_never_read_what_the_parser_would_not(texts):
    _amounts_same_as_parser(texts)


@given(st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT))
def test_the_usual_amounts_take_the_fast_path(value):
    forms = [str(value), f"{value:,}", f"{value:,}원", f"{value}.00"]
    assert amounts_fast(forms) == [value] * len(forms)


def test_what_the_fast_path_leaves_is_what_the_parser_words():
    """Rejected texts come back as None, so their rows get the parser's own problem."""
    texts = ["2025-02-30 10:00:00", "2024-01-01 24:00", "1899-12-31", "2025-08-11 10:06:60"]
    assert datetimes_fast(texts, today=dt.date(2026, 1, 1)) == [None] * len(texts)
    for text in texts:
        try:
            parse_datetime(text)
        except ValueProblem:
            continue
        raise AssertionError(text)
    assert amounts_fast(["1,000,000,001", "12,50", "12.5", ""]) == [None] * 4
