"""Property tests of the parsers: dates, amounts, header mapping, and arbitrary bytes."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dangol.imports.decoding import FileUnreadable, table_read
from dangol.imports.headers import KIND_FIELDS, SYNONYMS, header_map
from dangol.imports.values import (
    MAX_AMOUNT,
    ValueProblem,
    parse_amount,
    parse_consent,
    parse_datetime,
)

TODAY = dt.date(2026, 1, 1)
moments = st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2026, 12, 31))


def _forms(m: dt.datetime) -> list[str]:
    return [
        f"{m:%Y-%m-%d %H:%M:%S}",
        f"{m.year}.{m.month}.{m.day} {m.hour}:{m.minute:02d}:{m.second:02d}",
        f"{m:%y/%m/%d %H:%M:%S}",
        f"{m.year}년 {m.month}월 {m.day}일 {m.hour}:{m.minute:02d}:{m.second:02d}",
        f"{m:%Y%m%d%H%M%S}",
        f"{m:%Y-%m-%d} {'오전' if m.hour < 12 else '오후'} {(m.hour % 12) or 12}:{m:%M:%S}",
    ]


@given(moments)
def test_every_typed_form_of_a_moment_reads_back_the_same(moment):
    moment = moment.replace(microsecond=0)
    for text in _forms(moment):
        assert parse_datetime(text, today=TODAY) == moment, text


@given(moments)
def test_excel_serials_read_back_to_the_second(moment):
    moment = moment.replace(microsecond=0)
    serial = (moment - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    assert parse_datetime(repr(serial), today=TODAY) == moment


@given(st.text(max_size=30))
def test_date_parser_only_ever_says_value_problem(text):
    try:
        parsed = parse_datetime(text, today=TODAY)
    except ValueProblem as exc:
        assert exc.ko and exc.en
    else:
        assert 1900 <= parsed.year <= 2100


def test_date_examples_from_the_issue():
    assert parse_datetime("2025.8.11") == dt.datetime(2025, 8, 11)
    assert parse_datetime("2025-08-11 10:06") == dt.datetime(2025, 8, 11, 10, 6)
    assert parse_datetime("25/08/11", today=TODAY) == dt.datetime(2025, 8, 11)
    assert parse_datetime("2025년 8월 11일") == dt.datetime(2025, 8, 11)
    assert parse_datetime("45880") == dt.datetime(2025, 8, 11)
    assert parse_datetime("85/03/02", today=TODAY) == dt.datetime(1985, 3, 2)  # a birthday
    for bad in ("08/11/2025", "2025-13-01", "어제", "1.5", "99999"):
        with pytest.raises(ValueProblem):
            parse_datetime(bad)


@given(st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT))
def test_amounts_in_every_written_form(value):
    plain = f"{abs(value):,}"
    sign = "-" if value < 0 else ""
    forms = [
        f"{sign}{plain}",
        f"{sign}{plain}원",
        f"₩{sign}{plain}",
        f"{sign}{abs(value)}.00",
        f" {sign}{abs(value)} 원 ",
    ]
    if value < 0:
        forms.append(f"({plain})")
    for text in forms:
        assert parse_amount(text) == value, text


@given(st.text(max_size=20))
def test_amount_parser_never_guesses(text):
    try:
        value = parse_amount(text)
    except ValueProblem:
        return
    # Width-folded first: full-width digits (１２,５００) are how some keyboards type amounts.
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())
    assert str(abs(value)) in digits.lstrip("0") or value == 0


def test_fractional_and_huge_amounts_are_refused():
    with pytest.raises(ValueProblem) as err:
        parse_amount("1,000.5")
    assert err.value.code == "amount_fraction"
    with pytest.raises(ValueProblem) as err:
        parse_amount(f"{MAX_AMOUNT + 1:,}")
    assert err.value.code == "amount_too_large"


def test_consent_blank_never_grants():
    assert parse_consent("") is None and parse_consent("  ") is None
    assert parse_consent("N") is False and parse_consent("미동의") is False
    assert parse_consent("Y") is True and parse_consent("동의") is True
    with pytest.raises(ValueProblem):
        parse_consent("아마도")


def _pairs(kind):
    return [(f, w) for f in KIND_FIELDS[kind] for w in SYNONYMS.get(f, ())]


@pytest.mark.parametrize("kind", ["customers", "purchases"])
@given(data=st.data())
def test_known_headers_map_with_high_confidence_however_spaced(kind, data):
    field, word = data.draw(st.sampled_from(_pairs(kind)))
    decorated = data.draw(
        st.sampled_from(
            [word, f" {word} ", word.upper(), f"{word}(원)", word.replace("", " ").strip()]
        )
    )
    (column,) = header_map(kind=kind, headers=[decorated]).columns
    assert column.field == field, (decorated, column)
    assert column.confidence >= 0.9


@given(st.lists(st.text(max_size=15), min_size=1, max_size=12))
def test_header_mapping_of_anything_is_well_formed(headers):
    mapping = header_map(kind="purchases", headers=headers)
    assert len(mapping.columns) == len(headers)
    fields = [c.field for c in mapping.columns if c.field]
    assert len(fields) == len(set(fields))  # never one field from two columns
    assert all(0.0 <= c.confidence <= 1.0 for c in mapping.columns)


@settings(max_examples=200, deadline=None)  # the first xlsx probe imports openpyxl
@given(st.binary(max_size=600))
def test_any_bytes_either_read_or_fail_with_a_file_problem(data):
    try:
        table = table_read(data=data, file_name="x.csv")
        for raw in table.rows:
            assert raw.cells is not None or raw.problem is not None
    except FileUnreadable as exc:
        assert exc.problem.ko and exc.problem.en
