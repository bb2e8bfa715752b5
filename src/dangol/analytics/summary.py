"""Per-customer purchase summaries (frequency, recency, age, spend) and transaction readers.

The buy-till-you-die models count *purchase occasions*, not lines: several purchases by the same
customer on the same calendar day are one occasion (the literature's convention for CDNOW), and
their amounts are summed into one occasion value.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

Unit = Literal["W", "D"]

UNIT_DAYS: dict[str, float] = {"W": 7.0, "D": 1.0}

SUMMARY_COLUMNS = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "total_spend",
    "first_purchase",
    "last_purchase",
)


def unit_days(unit: str) -> float:
    """Length of one model time unit in days."""
    try:
        return UNIT_DAYS[unit]
    except KeyError:
        raise ValueError(f"unit must be one of {sorted(UNIT_DAYS)}, got {unit!r}") from None


def as_date(value: dt.date | dt.datetime | str) -> dt.date:
    """Accept a date, a datetime or an ISO string (YYYY-MM-DD or YYYYMMDD)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if len(text) == 8 and text.isdigit():
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return dt.date.fromisoformat(text[:10])


def read_cdnow(path: str | Path) -> pl.DataFrame:
    """Read the whitespace-separated CDNOW sample file.

    Columns in the file: ID in the full cohort, ID in the 1/10 sample, date (YYYYMMDD), quantity,
    amount. The sample ID (1..2,357) is the one the published calibration summary uses, so it
    becomes ``customer_id``; the full-cohort ID is kept as ``customer_id_full``.
    """
    rows = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    full_id, sample_id, day, quantity, amount = zip(*rows, strict=True)
    return pl.DataFrame(
        {
            "customer_id": pl.Series(sample_id).cast(pl.Int64),
            "customer_id_full": pl.Series(full_id).cast(pl.Int64),
            "date": pl.Series(day).str.to_date("%Y%m%d"),
            "quantity": pl.Series(quantity).cast(pl.Int64),
            "amount": pl.Series(amount).cast(pl.Float64),
        }
    )


def read_transactions_csv(
    path: str | Path,
    *,
    customer: str,
    at: str,
    amount: str | None = None,
    date_format: str | None = None,
) -> pl.DataFrame:
    """Read a CSV export of transactions, keeping only the columns the summaries need.

    ``at`` is parsed to a datetime when it arrives as text, so that POS exports with either
    ``2024-03-01`` or ``2024-03-01 14:22`` work without configuration. Encodings, amounts such
    as ``12,500원`` and row-numbered errors are handled by ``readers.read_transactions``.
    """
    from .readers import AMOUNT, AT, CUSTOMER, read_transactions

    read = read_transactions(
        path, format="csv", customer=customer, at=at, amount=amount, date_format=date_format
    )
    names = {CUSTOMER: customer, AT: at} | ({AMOUNT: amount} if amount else {})
    return read.frame.rename(names)


def _day_expr(transactions: pl.DataFrame, at: str) -> pl.Expr:
    day = pl.col(at)
    if transactions.schema[at] == pl.String:
        return day.str.to_date(strict=False)
    if transactions.schema[at] != pl.Date:
        return day.dt.date()
    return day


def customer_days(
    transactions: pl.DataFrame,
    *,
    customer: str,
    day: pl.Expr,
    value: pl.Expr | None = None,
    hour: pl.Expr | None = None,
    asof: dt.date | None = None,
) -> pl.DataFrame:
    """One row per customer and calendar day, sorted by customer then ``_day``.

    ``day`` is the expression giving each line's date; ``value`` (summed into ``_value``) and
    ``hour`` (earliest, as ``_hour``) are optional; lines after ``asof`` are left out. The
    customer column comes out flagged as sorted, so later per-customer group-bys and shifts
    run on contiguous slices instead of hashing.

    Built by sorting the lines once (on one integer key when customer ids are integers) and
    summing each run of equal (customer, day): at ten million lines this is several times
    faster than hashing on (customer, day) and sorting the result.
    """
    columns = [pl.col(customer), day.alias("_day")]
    if value is not None:
        columns.append(value.alias("_value"))
    if hour is not None:
        columns.append(hour.cast(pl.Int32).alias("_hour"))
    lines = transactions.lazy().select(columns).drop_nulls("_day")
    if asof is not None:
        lines = lines.filter(pl.col("_day") <= asof)
    lines = lines.collect()
    if lines.height == 0:
        return lines.sort(customer, "_day")
    ids = lines[customer]
    days = lines["_day"].cast(pl.Int32)
    key = None
    codes = ids
    if not ids.dtype.is_integer() and ids.null_count() == 0:
        # Rank codes in the ids' own sort order, so the integer key sorts like the ids do.
        distinct = ids.unique().sort()
        positions = pl.Series(np.arange(distinct.len(), dtype=np.int64))
        codes = ids.replace_strict(distinct, positions)
    if codes.dtype.is_integer() and codes.null_count() == 0:
        low, high = int(codes.min()), int(codes.max())
        first, last = int(days.min()), int(days.max())
        if (high - low + 1) * (last - first + 1) < 2**62:
            offset = (codes - low) if codes.dtype == pl.UInt64 else (codes.cast(pl.Int64) - low)
            key = offset.cast(pl.Int64) * (last - first + 1) + (days.cast(pl.Int64) - first)
    run_keys = None
    if key is not None:
        order, key = _sorted_key(key)
        new = np.empty(key.size, dtype=bool)
        new[:1] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        run_keys = key[new]
    else:
        order = lines.select(pl.arg_sort_by(customer, "_day", maintain_order=True)).to_series()
        sorted_lines = lines.select(customer, "_day").gather(order)
        new = sorted_lines.select(
            (pl.col(customer).ne_missing(pl.col(customer).shift()))
            | (pl.col("_day") != pl.col("_day").shift()).fill_null(True)
        ).to_series()
        new = new.to_numpy().astype(bool)
        new[:1] = True
        order = order.to_numpy()
    starts = np.flatnonzero(new)
    out = {}
    if run_keys is not None and lines["_day"].dtype == pl.Date:
        # Customer and day come back from the key itself: no gathering from ten million lines.
        span = last - first + 1
        offsets = run_keys // span
        if codes is not ids:
            out[customer] = distinct.gather(offsets + low)
        elif ids.dtype != pl.UInt64:
            out[customer] = pl.Series(offsets + low).cast(ids.dtype)
        out["_day"] = pl.Series((run_keys % span + first).astype(np.int32)).cast(pl.Date)
    if customer not in out:
        first_rows = order[starts]
        out = {customer: ids.gather(first_rows), "_day": lines["_day"].gather(first_rows)}
    if value is not None:
        values = lines["_value"].to_numpy()[order]
        out["_value"] = pl.Series("_value", np.add.reduceat(values, starts), pl.Float64)
    if hour is not None:
        hours = lines["_hour"]
        if hours.null_count() == hours.len():
            out["_hour"] = pl.Series("_hour", [None] * starts.size, pl.Int32)
        elif hours.null_count() == 0:
            mins = np.minimum.reduceat(hours.to_numpy()[order], starts)
            out["_hour"] = pl.Series("_hour", mins, pl.Int32)
        else:
            run = pl.Series("_run", np.cumsum(new) - 1)
            out["_hour"] = (
                pl.DataFrame({"_run": run, "_hour": hours.gather(order)})
                .with_columns(pl.col("_run").set_sorted())
                .group_by("_run", maintain_order=True)
                .agg(pl.col("_hour").min())["_hour"]
            )
    frame = pl.DataFrame(out)
    return frame.with_columns(pl.col(customer).set_sorted())


def _sorted_key(key: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(order, sorted keys)`` of a non-negative Int64 key, ties in row order.

    When the row number fits in the key's unused low bits, sorting the packed values gives
    both at once and is much faster than an argsort followed by a gather.
    """
    bits = max(1, (key.len() - 1).bit_length())
    if int(key.max()) < 2 ** (62 - bits):
        packed = (key.to_numpy() << bits) | np.arange(key.len(), dtype=np.int64)
        packed = pl.Series(packed).sort().to_numpy()
        return packed & ((1 << bits) - 1), packed >> bits
    order = key.arg_sort().to_numpy()
    return order, key.to_numpy()[order]


def occasions(
    transactions: pl.DataFrame, *, customer: str, at: str, amount: str | None = None
) -> pl.DataFrame:
    """Collapse transactions into one row per customer and calendar day (``_day``, ``_value``)."""
    value = pl.col(amount).cast(pl.Float64).fill_null(0.0) if amount else pl.lit(0.0)
    return customer_days(
        transactions, customer=customer, day=_day_expr(transactions, at), value=value
    )


def summarize_days(
    days: pl.DataFrame, *, customer: str, calibration_end: dt.date, unit: Unit = "W"
) -> pl.DataFrame:
    """:func:`summarize` (without holdout) from :func:`occasions` output (sorted by customer, day).

    ``days`` may carry more columns (such as ``_hour``); only ``_day`` and ``_value`` are read.
    """
    per_day = unit_days(unit)
    calibration = days.filter(pl.col("_day") <= calibration_end)
    first = pl.col("_day").first()
    return (
        calibration.group_by(customer)
        .agg(
            (pl.len() - 1).cast(pl.Int64).alias("frequency"),
            first.alias("first_purchase"),
            pl.col("_day").last().alias("last_purchase"),
            # The first occasion is excluded: Gamma-Gamma models the value of repeat purchases.
            pl.col("_value").slice(1).mean().fill_null(0.0).alias("monetary_value"),
            pl.col("_value").sum().alias("total_spend"),
        )
        .with_columns(
            ((pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days() / per_day).alias(
                "recency"
            ),
            ((pl.lit(calibration_end) - pl.col("first_purchase")).dt.total_days() / per_day).alias(
                "T"
            ),
        )
        .select(customer, *SUMMARY_COLUMNS)
        .sort(customer)
    )


def summarize(
    transactions: pl.DataFrame,
    *,
    customer: str,
    at: str,
    amount: str | None = None,
    calibration_end: dt.date | dt.datetime | str,
    holdout_end: dt.date | dt.datetime | str | None = None,
    unit: Unit = "W",
) -> pl.DataFrame:
    """One row per customer who bought on or before ``calibration_end``.

    Columns: ``frequency`` (repeat occasions x), ``recency`` (t_x, first to last occasion),
    ``T`` (first occasion to ``calibration_end``), ``monetary_value`` (mean value of the repeat
    occasions, 0 without repeats), ``total_spend``, ``first_purchase``, ``last_purchase``; with
    ``holdout_end`` also ``holdout_frequency`` (occasions after ``calibration_end`` up to and
    including ``holdout_end``), ``holdout_spend`` and ``holdout_duration``. Durations are in
    ``unit`` ("W" weeks, "D" days) and measured in whole days, which is how the published CDNOW
    summary was built (T = days from first purchase to 1997-09-30, divided by 7).
    """
    per_day = unit_days(unit)
    cal_end = as_date(calibration_end)
    days = occasions(transactions, customer=customer, at=at, amount=amount)
    summary = summarize_days(days, customer=customer, calibration_end=cal_end, unit=unit)
    if holdout_end is None:
        return summary
    hold_end = as_date(holdout_end)
    if hold_end <= cal_end:
        raise ValueError("holdout_end must be after calibration_end")
    holdout = (
        days.filter((pl.col("_day") > cal_end) & (pl.col("_day") <= hold_end))
        .group_by(customer)
        .agg(
            pl.len().cast(pl.Int64).alias("holdout_frequency"),
            pl.col("_value").sum().alias("holdout_spend"),
        )
    )
    return summary.join(holdout, on=customer, how="left").with_columns(
        pl.col("holdout_frequency").fill_null(0),
        pl.col("holdout_spend").fill_null(0.0),
        pl.lit((hold_end - cal_end).days / per_day).alias("holdout_duration"),
    )
