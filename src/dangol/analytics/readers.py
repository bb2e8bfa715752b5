"""Transaction files (CSV and Excel .xlsx) read into the frame the summaries expect.

Both formats take the same path once the cells are text: the columns are picked by header name or
0-based index (:func:`pick_column`), then :func:`tidy` checks every row the same way: customer ids
are only ever ids (a formula-like or very long string is kept as it is, never evaluated), dates may
be real Excel date cells or text such as ``2024-03-05``, ``2024.03.05``, ``20240305``,
``2024-03-05 14:22`` or ``2024-03-05 오후 2:22:00``, and amounts may be numbers or text such as
``12,500`` or ``12,500원``. A problem names the file's row (the header is row 1, as in Excel) and
column, in Korean and English (:class:`ReadError`).

CSV files may be UTF-8 (with or without a byte-order mark), CP949/EUC-KR (Korean Excel's "CSV")
or UTF-16 with a byte-order mark (Excel's "Unicode text", tab-separated).
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import polars as pl

Format = Literal["csv", "xlsx"]

#: Column names of the frame :func:`read_transactions` returns.
CUSTOMER, AT, AMOUNT = "customer", "at", "amount"
_ROW = "_row"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, or a password-protected .xlsx
_ZIP_MAGIC = b"PK\x03\x04"

_DATE_PARTS = ("%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%Y%m%d")
_TIME_PARTS = ("", " %H:%M", " %H:%M:%S%.f", "T%H:%M", "T%H:%M:%S%.f", " %p %I:%M", " %p %I:%M:%S")
#: Year-first forms only, so none of them is ambiguous; ``--date-format`` is tried before them.
DATE_FORMATS = tuple(d + t for d in _DATE_PARTS for t in _TIME_PARTS)

_INDEX = re.compile(r"\s*[0-9]{1,9}\s*")
_INTEGER_ID = r"^(0|[1-9][0-9]{0,17})$"
_AMOUNT = r"^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$"


class ReadError(ValueError):
    """A problem in the input that the user can fix, in Korean (``ko``) and English (``en``)."""

    def __init__(self, ko: str, en: str, *, row: int | None = None, column: str | None = None):
        super().__init__(en)
        self.ko = ko
        self.en = en
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Transactions:
    """Checked transactions: ``frame`` has ``customer``, ``at`` and (with an amount) ``amount``.

    ``customer`` is Int64 when every id is a plain integer, text otherwise; ``at`` is a datetime;
    ``amount`` is a non-negative float. ``skipped`` counts rows without a customer id (walk-in
    sales in POS exports), which are left out; wholly blank rows are left out silently.
    """

    frame: pl.DataFrame
    labels: dict[str, str]
    skipped: int

    @property
    def amount(self) -> str | None:
        return AMOUNT if AMOUNT in self.frame.columns else None


def show(value: object, limit: int = 40) -> str:
    """A cell value as a short, printable quotation for an error message."""
    if value is None:
        return "(empty)"
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(value))
    if len(text) > limit:
        text = text[:limit] + f"… ({len(str(value)):,} chars)"
    return f"'{text}'"


def pick_column(spec: str | int | None, headers: Sequence[str], flag: str) -> int | None:
    """Index of the column named ``spec``, or at 0-based index ``spec``; None for no ``spec``."""
    if spec is None:
        return None
    text = str(spec)
    if text in headers:
        return list(headers).index(text)
    stripped = [h.strip() for h in headers]
    if text.strip() in stripped:
        return stripped.index(text.strip())
    if _INDEX.fullmatch(text) and int(text) < len(headers):
        return int(text)
    listed = ", ".join(show(h, 30) for h in headers[:30])
    if len(headers) > 30:
        listed += f", … ({len(headers)})"
    raise ReadError(
        f"{flag} 열을 찾을 수 없습니다: {show(text)} (있는 열: {listed})",
        f"{flag}: no column {show(text)} (columns: {listed})",
        column=text,
    )


def _pick_all(
    headers: Sequence[str], customer: str | int, at: str | int, amount: str | int | None
) -> dict[str, int]:
    picked = {
        CUSTOMER: pick_column(customer, headers, "--customer-col"),
        AT: pick_column(at, headers, "--date-col"),
    }
    if amount is not None:
        picked[AMOUNT] = pick_column(amount, headers, "--amount-col")
    indices = list(picked.values())
    if len(set(indices)) < len(indices):
        raise ReadError(
            "고객, 날짜, 금액에 같은 열을 골랐습니다. 열을 각각 다르게 지정하세요.",
            "The same column was chosen twice among customer, date and amount.",
        )
    return picked  # type: ignore[return-value]


# --- CSV -------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data, encodings = data[len(codecs.BOM_UTF8) :], ("utf-8",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp949")
    furthest = 0  # the encoding that read furthest points at the likeliest bad byte
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            furthest = max(furthest, exc.start)
    line = data[:furthest].count(b"\n") + 1
    raise ReadError(
        f"{line}행: 글자를 읽을 수 없습니다. UTF-8이나 CP949(EUC-KR)로 저장한 CSV인지 확인하세요.",
        f"Line {line}: cannot decode the text; save the CSV as UTF-8 or CP949 (EUC-KR).",
        row=line,
    )


def _read_csv(
    path: Path, picks: dict[str, str | int | None]
) -> tuple[dict[str, pl.Series], dict[str, str], pl.Series]:
    data = path.read_bytes()
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise ReadError(
            "CSV가 아니라 엑셀 파일로 보입니다. --format xlsx로 읽으세요.",
            "This looks like an Excel workbook, not a CSV; use --format xlsx.",
        )
    text = _decode(data)
    if not text.strip():
        raise ReadError("파일이 비어 있습니다.", "The file is empty.")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    separator = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        table = pl.read_csv(
            io.BytesIO(text.encode("utf-8")), infer_schema=False, separator=separator
        )
    except pl.exceptions.PolarsError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReadError(
            f"CSV를 읽을 수 없습니다: {reason}", f"Cannot read the CSV: {reason}"
        ) from exc
    picked = _pick_all(table.columns, **picks)  # type: ignore[arg-type]
    columns = {key: table.to_series(index) for key, index in picked.items()}
    labels = {key: table.columns[index] for key, index in picked.items()}
    # Data rows start on line 2; polars keeps blank lines as empty rows, so lines line up.
    rows = pl.int_range(2, table.height + 2, eager=True, dtype=pl.Int64)
    return columns, labels, rows


# --- Excel .xlsx ---------------------------------------------------------------------------------


def _cell_text(value: Any) -> str | None:
    """An Excel cell as the text ``tidy`` parses; date cells become ISO text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def _not_xlsx(path: Path, detail: str = "") -> ReadError:
    suffix = f" ({detail})" if detail else ""
    return ReadError(
        f"엑셀 .xlsx 파일이 아닙니다: {path.name}{suffix}. 엑셀에서 'Excel 통합 문서(.xlsx)'로 "
        "저장하거나 CSV는 --format csv로 읽으세요.",
        f"Not an Excel .xlsx workbook: {path.name}{suffix}. Save it from Excel as "
        "'Excel Workbook (.xlsx)', or read a CSV with --format csv.",
    )


def _open_workbook(path: Path) -> Any:
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_OLE_MAGIC):
        raise ReadError(
            f"예전 .xls 형식이거나 암호가 걸린 엑셀 파일입니다: {path.name}. 암호를 풀고 "
            "'Excel 통합 문서(.xlsx)'로 다시 저장하세요.",
            f"{path.name} is a legacy .xls or password-protected workbook; remove the password and "
            "save it as 'Excel Workbook (.xlsx)'.",
        )
    if not head.startswith(_ZIP_MAGIC) or not zipfile.is_zipfile(path):
        raise _not_xlsx(path)
    import openpyxl

    try:
        # read_only streams the rows; data_only gives what Excel shows (a formula's last value),
        # so nothing in the file is ever evaluated.
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a zip that is not a workbook fails in many ways
        raise _not_xlsx(path, type(exc).__name__) from exc


def _pick_sheet(book: Any, sheet: str | int | None) -> Any:
    sheets = book.worksheets
    names = [ws.title for ws in sheets]
    if not sheets:
        raise ReadError("워크시트가 없는 파일입니다.", "The workbook has no worksheets.")
    if sheet is None:
        return sheets[0]
    text = str(sheet)
    for candidate in (text, text.strip()):
        if candidate in names:
            return sheets[names.index(candidate)]
    if _INDEX.fullmatch(text) and int(text) < len(sheets):
        return sheets[int(text)]
    listed = ", ".join(show(n, 30) for n in names)
    raise ReadError(
        f"--sheet 시트를 찾을 수 없습니다: {show(text)} (있는 시트: {listed}; 번호는 0부터)",
        f"--sheet: no sheet {show(text)} (sheets: {listed}; numbers start at 0)",
    )


def _nonblank(row: Sequence[Any]) -> bool:
    return any(v is not None and not (isinstance(v, str) and not v.strip()) for v in row)


def _read_xlsx(
    path: Path, picks: dict[str, str | int | None], sheet: str | int | None
) -> tuple[dict[str, pl.Series], dict[str, str], pl.Series]:
    book = _open_workbook(path)
    try:
        ws = _pick_sheet(book, sheet)
        try:
            ws.reset_dimensions()  # some writers store a wrong size; read every row there is
            rows: Iterator[tuple[int, Sequence[Any]]] = enumerate(
                ws.iter_rows(values_only=True), start=1
            )
            header_row, header = next(((n, r) for n, r in rows if _nonblank(r)), (0, ()))
            if not header_row:
                raise ReadError(
                    f"시트 {show(ws.title)}가 비어 있습니다.", f"Sheet {show(ws.title)} is empty."
                )
            headers = [_cell_text(v) or "" for v in header]
            picked = _pick_all(headers, **picks)  # type: ignore[arg-type]
            values: dict[str, list[str | None]] = {key: [] for key in picked}
            numbers: list[int] = []
            for number, row in rows:
                cells = [_cell_text(row[i]) if i < len(row) else None for i in picked.values()]
                if all(c is None for c in cells):
                    continue
                numbers.append(number)
                for key, cell in zip(picked, cells, strict=True):
                    values[key].append(cell)
        except ReadError:
            raise
        except Exception as exc:  # malformed sheet XML and the like
            raise ReadError(
                f"엑셀 파일을 읽다가 멈췄습니다 ({type(exc).__name__}). "
                "엑셀에서 다시 저장해 보세요.",
                f"Reading the workbook failed ({type(exc).__name__}: {exc}); re-save it in Excel.",
            ) from exc
    finally:
        book.close()
    if not numbers:
        raise ReadError(
            f"시트 {show(ws.title)}에 머리글({header_row}행) 아래 데이터가 없습니다.",
            f"Sheet {show(ws.title)} has no data below the header (row {header_row}).",
        )
    columns = {key: pl.Series(key, vals, dtype=pl.String) for key, vals in values.items()}
    labels = {key: headers[index] for key, index in picked.items()}
    return columns, labels, pl.Series(_ROW, numbers, dtype=pl.Int64)


# --- shared checks -------------------------------------------------------------------------------


def _blank_to_null(name: str) -> pl.Expr:
    text = pl.col(name).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text).alias(name)


def parse_dates(text: pl.Expr, date_format: str | None = None) -> pl.Expr:
    """Text to datetime: ``date_format`` first, then the year-first forms; null if none fits."""
    normal = (
        text.str.replace_all("오전", "AM")
        .str.replace_all("오후", "PM")
        .str.replace(r"^([0-9]{4})\s*년\s*([0-9]{1,2})\s*월\s*([0-9]{1,2})\s*일", "$1-$2-$3")
        .str.replace_all(r"([0-9])\.\s+", "$1.")
        .str.replace(r"([0-9])\.$", "$1")
        .str.replace_all(r"\s+", " ")
    )
    tries = [(text, date_format)] if date_format else []
    tries += [(normal, fmt) for fmt in DATE_FORMATS]
    return pl.coalesce(
        [expr.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True) for expr, fmt in tries]
    )


def parse_amounts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Text to a non-negative float, and the reason (Korean|English) where that fails."""
    bare = text.str.replace(r"^(₩|￦|KRW)\s*", "").str.replace(r"\s*(원|KRW)$", "")
    valid = bare.str.contains(_AMOUNT)
    value = pl.when(valid).then(bare.str.replace_all(",", "").cast(pl.Float64, strict=False))
    problem = (
        pl.when(text.is_null())
        .then(pl.lit("금액이 비어 있습니다|the amount is empty"))
        .when(bare.str.contains(r"^[-−–(]"))
        .then(pl.lit("금액이 음수입니다|the amount is negative"))
        .when(~valid)
        .then(pl.lit("금액을 숫자로 읽을 수 없습니다|the amount is not a number"))
    )
    return value, problem


def _fail(bad: pl.DataFrame, key: str, labels: dict[str, str], ko: str, en: str) -> ReadError:
    first = bad.row(0, named=True)
    row, column = first[_ROW], labels[key]
    more_ko = f" (이런 행이 모두 {bad.height:,}개)" if bad.height > 1 else ""
    more_en = f" ({bad.height:,} such rows in all)" if bad.height > 1 else ""
    value = show(first[key])
    return ReadError(
        f"{row}행, {show(column)} 열: {ko}: {value}{more_ko}",
        f"row {row}, column {show(column)}: {en}: {value}{more_en}",
        row=row,
        column=column,
    )


def tidy(
    columns: dict[str, pl.Series],
    labels: dict[str, str],
    rows: pl.Series,
    *,
    date_format: str | None = None,
) -> Transactions:
    """Check and convert text columns (``customer``, ``at``, optional ``amount``) row by row."""
    frame = pl.DataFrame({_ROW: rows, **{k: s.cast(pl.String) for k, s in columns.items()}})
    keys = list(columns)
    frame = frame.with_columns(_blank_to_null(k) for k in keys)
    frame = frame.filter(pl.any_horizontal(pl.col(k).is_not_null() for k in keys))
    with_id = frame.filter(pl.col(CUSTOMER).is_not_null())
    skipped = frame.height - with_id.height
    if with_id.height == 0:
        raise ReadError(
            f"{show(labels[CUSTOMER])} 열에 고객번호가 있는 행이 없습니다.",
            f"No row has a customer id in column {show(labels[CUSTOMER])}.",
            column=labels[CUSTOMER],
        )
    try:
        parsed = with_id.with_columns(parse_dates(pl.col(AT), date_format).alias("_at"))
    except pl.exceptions.PolarsError as exc:
        raise ReadError(
            f"--date-format을 쓸 수 없습니다: {show(date_format)}",
            f"Invalid --date-format {show(date_format)}: {str(exc).strip().splitlines()[0]}",
        ) from exc
    bad = parsed.filter(pl.col("_at").is_null())
    if bad.height:
        hint_ko = "날짜를 읽을 수 없습니다 (--date-format 확인)"
        raise _fail(bad, AT, labels, hint_ko, "cannot read the date (check --date-format)")
    out = [pl.col(CUSTOMER), pl.col("_at").alias(AT)]
    if AMOUNT in columns:
        value, problem = parse_amounts(pl.col(AMOUNT))
        parsed = parsed.with_columns(value.alias("_amount"), problem.alias("_problem"))
        bad = parsed.filter(pl.col("_problem").is_not_null())
        if bad.height:
            ko, en = bad["_problem"][0].split("|")
            raise _fail(
                bad.filter(pl.col("_problem") == bad["_problem"][0]), AMOUNT, labels, ko, en
            )
        out.append(pl.col("_amount").alias(AMOUNT))
    frame = parsed.select(out)
    if frame[CUSTOMER].str.contains(_INTEGER_ID).all():
        frame = frame.with_columns(pl.col(CUSTOMER).cast(pl.Int64))
    return Transactions(frame=frame, labels=labels, skipped=skipped)


def read_transactions(
    path: str | Path,
    *,
    format: Format = "csv",
    customer: str | int,
    at: str | int,
    amount: str | int | None = None,
    date_format: str | None = None,
    sheet: str | int | None = None,
) -> Transactions:
    """Read and check a CSV or .xlsx file of transactions (columns by header name or index).

    ``sheet`` (xlsx only) is a sheet name or 0-based index, the first sheet by default; the
    first non-blank row of the sheet is its header. Raises :class:`ReadError` on bad input.
    """
    path = Path(path)
    picks = {"customer": customer, "at": at, "amount": amount}
    if format == "xlsx":
        columns, labels, rows = _read_xlsx(path, picks, sheet)
    elif format == "csv":
        columns, labels, rows = _read_csv(path, picks)
    else:
        raise ValueError(f"format must be 'csv' or 'xlsx', got {format!r}")
    if rows.len() == 0:
        raise ReadError("머리글 아래 데이터가 없습니다.", "There is no data below the header.")
    return tidy(columns, labels, rows, date_format=date_format)
