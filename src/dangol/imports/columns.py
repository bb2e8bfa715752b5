"""Whole-column parsing of the costly cells of a purchase file: times of sale and amounts.

A million rows of per-cell regexes cost more than the rest of the import's Python, so a chunk's
column goes through polars at once for the forms exports really use. The fast path answers only
where it is sure: a cell it does not recognise comes back as None and the caller runs
``values.parse_datetime`` / ``values.parse_amount`` on it, so every value and every error message
stays the one those parsers give. Property tests hold the two paths to the same answers.

Both patterns accept ASCII digits, ASCII separators and 년/월/일/원 only: those are unchanged by
the NFKC normalisation the Python parsers start with, so the text seen here is the text they see.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from dangol.imports.values import MAX_AMOUNT

#: A subset of what ``parse_datetime`` reads: year-first dates with `-`, `.`, `/` or 년/월/일,
#: optionally `T` or spaces and hours:minutes[:seconds]. Weekdays, 오전/오후, fractions of a
#: second, offsets, Excel serials and compact dates are left to the Python parser.
_DATETIME = (
    r"^([0-9]{4}|[0-9]{2}) *(?:[-./]|년) *([0-9]{1,2}) *(?:[-./]|월) *([0-9]{1,2})(?: *일)?\.?"
    r"(?:(?:T| +)([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?)?$"
)
#: The one form most POS exports write, strict enough (years 1900–2100, no 24 h, no leap
#: second) that a plain strptime reads every match exactly as ``parse_datetime`` does.
_ISO = (
    r"^(?:19[0-9]{2}|20[0-9]{2}|2100)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]) "
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
)
_ISO_FORMAT = "%Y-%m-%d %H:%M:%S"
#: `12,500`, `12500`, `-3,000`, `9,000원`, `12500.00`; no spaces, parentheses or other currency
#: words (the Python parser takes those).
_AMOUNT = r"^(-?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.0+)?(?:원)?$"


def _int(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Int64, strict=False)


def datetimes_fast(texts: list[str], *, today: dt.date | None = None) -> list[dt.datetime | None]:
    """Naive datetimes equal to ``parse_datetime(text)``, or None where the fast path cannot
    tell (including every text the Python parser would reject)."""
    if not texts:
        return []
    text = pl.col("text")
    iso = pl.when(text.str.contains(_ISO)).then(
        text.str.strptime(pl.Datetime("us"), _ISO_FORMAT, strict=False)
    )
    moments = pl.DataFrame({"text": texts}, schema={"text": pl.String}).select(iso)
    found: list[dt.datetime | None] = moments.to_series().to_list()
    # Regex groups cost five times the strict form, so only the other rows take them.
    rest = [i for i, moment in enumerate(found) if moment is None]
    if rest:
        others = _datetimes_any([texts[i] for i in rest], today=today or dt.date.today())
        for i, moment in zip(rest, others, strict=True):
            found[i] = moment
    return found


def _datetimes_any(texts: list[str], *, today: dt.date) -> list[dt.datetime | None]:
    parts = pl.Series("text", texts, dtype=pl.String).str.extract_groups(_DATETIME)
    frame = parts.struct.unnest()
    year = _int("1")
    # The two-digit year rule of values._year: 20yy unless that lies past next year.
    year = (
        pl.when(pl.col("1").str.len_bytes() == 2)
        .then(pl.when(year + 2000 <= today.year + 1).then(year + 2000).otherwise(year + 1900))
        .otherwise(year)
    )
    month, day = _int("2"), _int("3")
    hour, minute, second = (_int(n).fill_null(0) for n in ("4", "5", "6"))
    plausible = (
        year.is_between(1900, 2100)
        & month.is_between(1, 12)
        & (day >= 1)
        & (hour < 24)
        & (minute < 60)
        & (second < 60)
    )
    month_days = pl.date(year.clip(1900, 2100), month.clip(1, 12), 1).dt.month_end().dt.day()
    ok = plausible & (day <= month_days)
    parts_ok = [pl.when(ok).then(e) for e in (year, month, day, hour, minute, second)]
    moments = frame.select(pl.datetime(*parts_ok, time_unit="us").alias("at"))["at"]
    return moments.to_list()


def amounts_fast(texts: list[str]) -> list[int | None]:
    """Whole won equal to ``parse_amount(text)``, or None where the fast path cannot tell."""
    # A column of prices holds a few distinct texts many times over.
    distinct = list(dict.fromkeys(texts))
    won = dict(zip(distinct, _amounts(distinct), strict=True))
    return [won[text] for text in texts]


def _amounts(texts: list[str]) -> list[int | None]:
    if not texts:
        return []
    parts = pl.Series("text", texts, dtype=pl.String).str.extract_groups(_AMOUNT)
    frame = parts.struct.unnest()
    magnitude = pl.col("2").str.replace_all(",", "", literal=True).cast(pl.Int64, strict=False)
    value = pl.when(magnitude <= MAX_AMOUNT).then(
        pl.when(pl.col("1") == "-").then(-magnitude).otherwise(magnitude)
    )
    return frame.select(value.alias("won"))["won"].to_list()
