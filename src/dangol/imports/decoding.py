"""Bytes → rows of text cells: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, CP949/EUC-KR),
Excel .xlsx (openpyxl) and legacy .xls (xlrd).

The format is read from the bytes, never trusted from the file name, and every limit (columns,
cell length) is checked while streaming so a hostile file costs no more than its size.
Structural trouble is reported as a :class:`Problem` naming the row, never as a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dangol.imports.report import Problem, shown

MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 (BOM)"),
    (b"\xff\xfe", "utf-16", "UTF-16"),
    (b"\xfe\xff", "utf-16", "UTF-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FileUnreadable(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.en)
        self.problem = problem


@dataclass(frozen=True)
class RawRow:
    """``cells`` is None when the row could not be read; ``problem`` says why."""

    number: int
    cells: list[str] | None
    problem: Problem | None = None


@dataclass
class Table:
    headers: list[str]
    header_row: int
    rows: Iterator[RawRow]
    file_format: str
    encoding: str = ""


def _fail(code: str, ko: str, en: str, *, row: int | None = None, value: str = "") -> None:
    raise FileUnreadable(Problem(code=code, ko=ko, en=en, row=row, value=value))


def table_read(*, data: bytes, file_name: str, sheet: str | int | None = None) -> Table:
    """Open a file; raises :class:`FileUnreadable` when nothing in it can be read."""
    if not data.strip():
        _fail("empty_file", "파일이 비어 있습니다.", f"{file_name} is empty.")
    if data.startswith(_ZIP):
        return _xlsx(data, file_name, sheet)
    if data.startswith(_OLE):
        return _xls(data, file_name, sheet)
    return _csv(data, file_name)


# ── text ───────────────────────────────────────────────────────────────────────────────────


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _mixed_utf8(data: bytes) -> int | None:
    """The first line that is not UTF-8 when other lines are UTF-8 with Korean in them: a file
    pasted together from two exports. None when the file is consistently one encoding."""
    utf8_korean = 0
    first_bad = None
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            first_bad = first_bad or number
            continue
        if any(b >= 0x80 for b in line):
            utf8_korean += 1
    return first_bad if utf8_korean and first_bad else None


def text_decode(*, data: bytes, file_name: str) -> tuple[str, str]:
    """(text, encoding label). Korean Excel saves "CSV" as CP949, so that is the fallback."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), label
            except UnicodeDecodeError as exc:
                _truncated_or_bad(data, exc, file_name, label)
    if b"\x00" in data and data[1::2].count(0) > len(data) // 4:
        _fail(
            "utf16_without_bom",
            f"{file_name}은(는) 바이트 순서 표시(BOM) 없는 UTF-16 파일로 보입니다. 엑셀에서 "
            "'CSV UTF-8'로 다시 저장하세요.",
            f"{file_name} looks like UTF-16 without a byte-order mark; save it from Excel as "
            "'CSV UTF-8'.",
        )
    if b"\x00" in data:
        _fail(
            "binary_file",
            f"{file_name}은(는) 표 형식의 텍스트 파일이 아닙니다 (이진 데이터). CSV나 엑셀 파일로 "
            "다시 저장하세요.",
            f"{file_name} is not a text table (binary data). Save it again as CSV or Excel.",
        )
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            _truncated_or_bad(data, exc, file_name, "UTF-8")
        utf8_error = exc
    mixed_line = _mixed_utf8(data)
    if mixed_line:
        _fail(
            "mixed_encoding",
            f"{mixed_line}행부터 인코딩이 다릅니다 (앞부분은 UTF-8). 한 파일은 한 인코딩으로 "
            "저장하세요.",
            f"Line {mixed_line} is in another encoding than the UTF-8 lines before it; save the "
            "file in one encoding.",
            row=mixed_line,
        )
    try:
        return data.decode("cp949"), "CP949/EUC-KR"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 1:
            _truncated_or_bad(data, exc, file_name, "CP949")
        line = _line_of(data, min(exc.start, utf8_error.start))
        _fail(
            "unknown_encoding",
            f"{line}행의 문자를 읽을 수 없습니다: UTF-8도 CP949(EUC-KR)도 아닙니다. 엑셀에서 "
            "'CSV UTF-8'로 다시 저장하세요.",
            f"Line {line} is neither UTF-8 nor CP949 (EUC-KR); save it from Excel as 'CSV UTF-8'.",
            row=line,
        )
    raise AssertionError("unreachable")


def _truncated_or_bad(data: bytes, exc: UnicodeDecodeError, file_name: str, label: str) -> None:
    line = _line_of(data, exc.start)
    if exc.start >= len(data) - 3:
        _fail(
            "truncated_file",
            f"파일이 중간에 잘렸습니다 ({line}행, 글자 중간에서 끝남). 원본을 다시 내려받으세요.",
            f"The file is cut off (line {line} ends inside a character); download it again.",
            row=line,
        )
    _fail(
        "unknown_encoding",
        f"{line}행을 {label}로 읽을 수 없습니다.",
        f"Line {line} cannot be read as {label}.",
        row=line,
    )


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv(data: bytes, file_name: str) -> Table:
    text, encoding = text_decode(data=data, file_name=file_name)
    sample = text[:4096]
    if sample and len(_CONTROL.findall(sample)) > max(2, len(sample) // 100):
        _fail(
            "binary_file",
            f"{file_name}은(는) 표 형식의 텍스트 파일이 아닙니다 (제어 문자가 많음).",
            f"{file_name} is not a text table (full of control characters).",
        )
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(first_line), strict=True
    )
    rows = _csv_rows(reader)
    return _with_header(rows, file_format="csv", encoding=encoding)


def _csv_rows(reader: Any) -> Iterator[RawRow]:
    last = 0
    try:
        for cells in reader:
            # A record with quoted line breaks spans lines; the report uses the line it starts
            # on.
            number = last + 1
            last = reader.line_num
            yield RawRow(number, cells)
    except csv.Error as exc:
        line = reader.line_num
        message = str(exc)
        if "field larger than field limit" in message:
            yield RawRow(line, None, _too_long(line, ""))
        elif "unexpected end of data" in message:
            yield RawRow(
                line,
                None,
                Problem(
                    code="truncated_file",
                    ko=f"{line}행에서 파일이 잘렸습니다 (따옴표가 닫히지 않음).",
                    en=f"The file is cut off at line {line} (a quote is never closed).",
                    row=line,
                ),
            )
        else:
            yield RawRow(
                line,
                None,
                Problem(
                    code="bad_csv",
                    ko=f"{line}행의 CSV 형식이 잘못되었습니다 ({message}).",
                    en=f"Line {line} is not valid CSV ({message}).",
                    row=line,
                ),
            )


def _too_long(row: int, column: str) -> Problem:
    return Problem(
        code="cell_too_long",
        ko=f"칸 하나가 너무 깁니다 (최대 {MAX_CELL_CHARS:,}자).",
        en=f"A cell is too long (at most {MAX_CELL_CHARS:,} characters).",
        row=row,
        column=column,
    )


def _with_header(rows: Iterator[RawRow], *, file_format: str, encoding: str = "") -> Table:
    header: RawRow | None = None
    for raw in rows:
        if raw.problem:
            raise FileUnreadable(raw.problem)
        if raw.cells and any(c.strip() for c in raw.cells):
            header = raw
            break
    if header is None or header.cells is None:
        _fail(
            "no_rows",
            "머리글 행을 찾을 수 없습니다 (빈 파일).",
            "No header row: the file is empty.",
        )
    assert header is not None and header.cells is not None
    if len(header.cells) > MAX_COLUMNS:
        _fail(
            "too_many_columns",
            f"열이 너무 많습니다: {len(header.cells):,}개 (최대 {MAX_COLUMNS}개).",
            f"Too many columns: {len(header.cells):,} (at most {MAX_COLUMNS}).",
            row=header.number,
        )
    cells = list(header.cells)
    while cells and not cells[-1].strip():
        cells.pop()
    for cell in cells:
        if len(cell) > 200:
            _fail(
                "header_too_long",
                "머리글 칸이 너무 깁니다 (200자 초과). 첫 행이 머리글인지 확인하세요.",
                "A header cell is longer than 200 characters; is the first row the header?",
                row=header.number,
                value=shown(cell),
            )
    headers = [c.strip().lstrip("\ufeff") for c in cells]
    return Table(
        headers=headers,
        header_row=header.number,
        rows=_checked(rows, width=len(headers)),
        file_format=file_format,
        encoding=encoding,
    )


def _checked(rows: Iterator[RawRow], *, width: int) -> Iterator[RawRow]:
    for raw in rows:
        if raw.problem or raw.cells is None:
            yield raw
            continue
        cells = raw.cells
        if len(cells) > MAX_COLUMNS:
            yield RawRow(
                raw.number,
                None,
                Problem(
                    code="too_many_columns",
                    ko=f"열이 너무 많습니다: {len(cells):,}개 (최대 {MAX_COLUMNS}개).",
                    en=f"Too many cells in the row: {len(cells):,} (at most {MAX_COLUMNS}).",
                    row=raw.number,
                ),
            )
            continue
        # Whole-row string work instead of a generator per cell: this runs for every row.
        if not "".join(cells).strip():
            continue
        if max(map(len, cells)) > MAX_CELL_CHARS:
            long_at = next(i for i, c in enumerate(cells) if len(c) > MAX_CELL_CHARS)
            column = f"{long_at + 1}열" if long_at >= width else ""
            yield RawRow(raw.number, None, _too_long(raw.number, column))
            continue
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            yield RawRow(
                raw.number,
                None,
                Problem(
                    code="extra_cells",
                    ko=f"머리글이 없는 열에 값이 있습니다 ({len(cells)}칸, 머리글 {width}칸).",
                    en=f"Values in columns without a header ({len(cells)} cells, {width} headers).",
                    row=raw.number,
                ),
            )
            continue
        yield raw if len(cells) == width else RawRow(raw.number, (cells + [""] * width)[:width])


# ── Excel ──────────────────────────────────────────────────────────────────────────────────


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _not_excel(file_name: str, detail: str) -> None:
    _fail(
        "bad_excel",
        f"엑셀 파일을 열 수 없습니다 ({detail}). 파일이 손상되었거나 잘렸습니다. 엑셀에서 다시 "
        "저장하세요.",
        f"Cannot open {file_name} as Excel ({detail}): it is damaged or cut off. Save it again.",
    )


def _excel_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[RawRow]:
    for number, values in enumerate(rows, start=1):
        if len(values) > MAX_COLUMNS and any(v not in (None, "") for v in values[MAX_COLUMNS:]):
            yield RawRow(number, [""] * (MAX_COLUMNS + 1))  # _checked reports the width
            continue
        yield RawRow(number, [_cell_text(v) for v in values[:MAX_COLUMNS]])


def _xlsx(data: bytes, file_name: str, sheet: str | int | None) -> Table:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.testzip()
        # read_only streams rows; data_only gives a formula's last shown value, so nothing in
        # the file is ever evaluated.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged zip fails in many ways
        _not_excel(file_name, type(exc).__name__)
    sheet_obj = _pick_sheet(book.worksheets, [ws.title for ws in book.worksheets], sheet)
    sheet_obj.reset_dimensions()  # some writers store a wrong size; read every row there is
    rows = _excel_rows(sheet_obj.iter_rows(values_only=True))
    return _with_header(rows, file_format="xlsx")


def _xls(data: bytes, file_name: str, sheet: str | int | None) -> Table:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:
        detail = "암호/password?" if "encrypt" in str(exc).lower() else type(exc).__name__
        _not_excel(file_name, detail)
    names = book.sheet_names()
    ws = _pick_sheet([book.sheet_by_index(i) for i in range(len(names))], names, sheet)

    def values() -> Iterator[tuple[Any, ...]]:
        for r in range(ws.nrows):
            row = []
            for cell in ws.row(r)[: MAX_COLUMNS + 1]:
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    row.append(None)
                else:
                    row.append(cell.value)
            yield tuple(row)

    return _with_header(_excel_rows(values()), file_format="xls")


def _pick_sheet(sheets: list[Any], names: list[str], sheet: str | int | None) -> Any:
    if not sheets:
        _fail("no_sheet", "워크시트가 없는 파일입니다.", "The workbook has no worksheets.")
    if sheet is None:
        return sheets[0]
    if str(sheet) in names:
        return sheets[names.index(str(sheet))]
    if str(sheet).isdigit() and int(sheet) < len(sheets):
        return sheets[int(sheet)]
    _fail(
        "no_sheet",
        f"시트를 찾을 수 없습니다: {shown(sheet)} (있는 시트: {', '.join(names)})",
        f"No sheet {shown(sheet)} (sheets: {', '.join(names)})",
    )
