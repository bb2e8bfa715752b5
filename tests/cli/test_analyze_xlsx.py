"""`dangol analyze --format xlsx`: Excel workbooks read like CSV, and bad workbooks refused clearly.

The workbooks are built here with openpyxl (the reader's own library), cell by cell, so each test
controls whether a date is a real date cell or text and whether an amount is a number or text.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest

from dangol.cli.main import main

CDNOW = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"
)
HEADERS = ["고객번호", "구매일시", "금액"]
KOREAN_COLUMNS = ("--customer-col", "고객번호", "--date-col", "구매일시", "--amount-col", "금액")


def run(capsys, *args: str) -> tuple[int, str, str]:
    """The command in-process: exit code, stdout, stderr (a traceback would fail the test)."""
    code = main(["analyze", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write_xlsx(path: Path, rows: list[list], *, title: str = "매출", extra_sheets=()) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for name in extra_sheets:
        book.create_sheet(name)
    book.save(path)
    return path


def shop_rows(customers: int = 30) -> list[list]:
    """A small shop's sales: every customer buys 1-5 times, dates as date cells and as text."""
    rows = [HEADERS]
    for c in range(customers):
        for visit in range(c % 5 + 1):
            day = dt.datetime(2025, 1 + visit, 1 + c % 27, 9 + visit, 30)
            at = [day, day.strftime("%Y-%m-%d %H:%M"), day.strftime("%Y.%m.%d")][visit % 3]
            amount = [4500 * (visit + 1), f"{4500 * (visit + 1):,}원"][visit % 2]
            rows.append([f"C{c:03d}", at, amount])
    return rows


# --- the same figures as the CDNOW reader --------------------------------------------------------


def _cdnow_subset(last_customer: int) -> list[list[str]]:
    lines = [line.split() for line in CDNOW.read_text().splitlines() if line.strip()]
    return [fields for fields in lines if int(fields[1]) <= last_customer]


def _as_xlsx_cells(i: int, fields: list[str]) -> list:
    """One CDNOW line as a POS export might hold it, in a different cell form on each line."""
    _, customer, day, quantity, amount = fields
    date = dt.datetime.strptime(day, "%Y%m%d")
    date_cell = [
        date.date(),  # a date cell
        date.replace(hour=14, minute=22),  # a date-and-time cell
        date.strftime("%Y-%m-%d"),  # text
        date.strftime("%Y.%m.%d"),
        int(day),  # the number 19970101
        date.strftime("%Y-%m-%d 오후 %I:%M:%S"),
    ][i % 6]
    value = float(amount)
    amount_cell = [value, f"{value:,.2f}", f"{value:,.2f}원"][i % 3]
    return [int(customer), date_cell, int(quantity), amount_cell]


@pytest.mark.parametrize(
    ("customers", "holdout"),
    # The holdout report also trains the churn model, which takes a while: fewer customers there.
    [(700, ()), (100, ("--holdout-end", "1998-06-30"))],
    ids=["calibration", "holdout"],
)
def test_xlsx_gives_the_same_figures_as_the_cdnow_reader(tmp_path, capsys, customers, holdout):
    subset = _cdnow_subset(customers)
    text = tmp_path / "cdnow_subset.txt"
    text.write_text("\n".join(" ".join(fields) for fields in subset) + "\n")
    rows = [["고객번호", "구매일시", "수량", "금액"]]
    rows += [_as_xlsx_cells(i, fields) for i, fields in enumerate(subset)]
    book = write_xlsx(tmp_path / "cdnow_subset.xlsx", rows)

    period = ("--calibration-end", "1997-09-30", *holdout)
    from_cdnow, from_xlsx = tmp_path / "cdnow.json", tmp_path / "xlsx.json"
    code, _, err = run(
        capsys,
        str(text),
        "--format",
        "cdnow",
        *("--customer-col", "1", "--date-col", "2", "--amount-col", "4"),
        *period,
        *("--json", str(from_cdnow)),
    )
    assert code == 0, err
    code, out, err = run(
        capsys,
        str(book),
        "--format",
        "xlsx",
        *KOREAN_COLUMNS,
        *period,
        *("--json", str(from_xlsx)),
    )
    assert code == 0, err
    expected = json.loads(from_cdnow.read_text())
    assert expected["customers"] == customers
    assert expected["gamma_gamma"] is not None
    assert ("holdout" in expected) == bool(holdout)
    assert json.loads(from_xlsx.read_text()) == expected
    assert f"{customers} customers" in out


# --- choosing the sheet and the columns ----------------------------------------------------------


def test_sheet_by_name_or_index_columns_by_index_and_format_from_the_suffix(tmp_path, capsys):
    book = openpyxl.Workbook()
    book.active.title = "안내"
    book.active.append(["이 시트는 설명입니다"])
    sales = book.create_sheet("3월 매출")
    sales.append([])  # a blank row above the header is fine
    for row in shop_rows():
        sales.append(row)
    path = tmp_path / "pos.xlsx"
    book.save(path)
    common = ("--calibration-end", "2025-12-31", "--unit", "D")
    for sheet in ("3월 매출", "1"):
        code, out, err = run(
            capsys,
            str(path),
            *("--sheet", sheet),
            *("--customer-col", "0", "--date-col", "1", "--amount-col", "2"),
            *common,
        )
        assert code == 0, err
        assert "30 customers" in out
    # Without --sheet the first sheet is read: it has no such columns, and says which it has.
    code, _, err = run(capsys, str(path), *KOREAN_COLUMNS, *common)
    assert code == 2
    assert "--customer-col" in err and "고객번호" in err and "이 시트는 설명입니다" in err


def test_rows_without_a_customer_id_are_left_out_and_counted(tmp_path, capsys):
    rows = shop_rows()
    rows.insert(3, [None, dt.datetime(2025, 3, 1), 5000])  # a walk-in sale
    rows.insert(5, ["   ", "2025-03-02", "3,000"])
    rows.insert(7, [None, None, None])  # a blank row
    path = write_xlsx(tmp_path / "walkin.xlsx", rows)
    code, out, err = run(
        capsys, str(path), *KOREAN_COLUMNS, "--calibration-end", "2025-12-31", "--unit", "D"
    )
    assert code == 0, err
    assert "30 customers" in out
    assert "2 rows without a customer id" in out


def test_hostile_ids_are_just_ids(tmp_path, capsys):
    hostile = [
        "=cmd|' /C calc'!A0",
        "+SUM(1+1)*cmd|' /C calc'!A0",
        "@SUM(A1)",
        "x" * 32_767,  # Excel's longest cell
        "nul_x0000_inside",  # how a NUL character is spelled inside an .xlsx
        "[bold red]not markup[/]",
        "'; DROP TABLE customers; --",
    ]
    rows = shop_rows()
    for i, customer in enumerate(hostile):
        rows.append([customer, dt.date(2025, 2, 1 + i), 1000])
        rows.append([customer, dt.date(2025, 4, 1 + i), 2000])
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows(min_col=1, max_col=1):
        cells[0].data_type = "s"  # written as text, as a POS export would, not as formulas
    path = tmp_path / "hostile.xlsx"
    book.save(path)
    out_json = tmp_path / "out.json"
    code, _, err = run(
        capsys,
        str(path),
        *KOREAN_COLUMNS,
        *("--calibration-end", "2025-12-31", "--unit", "D", "--json", str(out_json)),
    )
    assert code == 0, err
    assert json.loads(out_json.read_text())["customers"] == 30 + len(hostile)


# --- bad input: exit code 2, one clear message, no traceback -------------------------------------


def _refused(capsys, path: Path, *args: str) -> str:
    code, _, err = run(
        capsys,
        str(path),
        *(args or KOREAN_COLUMNS),
        *("--calibration-end", "2025-12-31", "--unit", "D"),
    )
    assert code == 2
    assert "Traceback" not in err
    assert "오류:" in err and "Error:" in err
    return " ".join(err.split())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("고객번호,구매일시,금액\nC1,2025-01-01,1000\n".encode(), "Not an Excel .xlsx workbook"),
        (bytes(range(256)) * 8, "Not an Excel .xlsx workbook"),
        (b"", "Not an Excel .xlsx workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "legacy .xls or password-protected"),
    ],
    ids=["csv-renamed", "random-bytes", "empty-file", "old-xls"],
)
def test_not_an_xlsx_file(tmp_path, capsys, content, expected):
    path = tmp_path / "sales.xlsx"
    path.write_bytes(content)
    err = _refused(capsys, path)
    assert expected in err and "sales.xlsx" in err
    assert "엑셀" in err


def test_a_zip_that_is_not_a_workbook(tmp_path, capsys):
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.txt", "not a workbook")
    assert "Not an Excel .xlsx workbook" in _refused(capsys, path)


def test_missing_sheet_names_the_sheets_there_are(tmp_path, capsys):
    path = write_xlsx(tmp_path / "pos.xlsx", shop_rows(), extra_sheets=["4월"])
    err = _refused(capsys, path, *KOREAN_COLUMNS, "--sheet", "5월")
    assert "--sheet" in err and "'5월'" in err and "'매출', '4월'" in err
    err = _refused(capsys, path, *KOREAN_COLUMNS, "--sheet", "7")
    assert "no sheet '7'" in err


def test_missing_column_names_the_flag_and_the_columns(tmp_path, capsys):
    path = write_xlsx(tmp_path / "pos.xlsx", shop_rows())
    err = _refused(
        capsys, path, "--customer-col", "고객번호", "--date-col", "결제일", "--amount-col", "2"
    )
    assert "--date-col" in err and "'결제일'" in err and "'구매일시'" in err
    err = _refused(capsys, path, "--customer-col", "0", "--date-col", "1", "--amount-col", "9")
    assert "--amount-col" in err and "'9'" in err


def test_empty_sheet_and_header_without_data(tmp_path, capsys):
    empty = write_xlsx(tmp_path / "empty.xlsx", [])
    assert "Sheet '매출' is empty" in _refused(capsys, empty)
    header_only = write_xlsx(tmp_path / "header.xlsx", [HEADERS, [None, None, None]])
    assert "no data below the header (row 1)" in _refused(capsys, header_only)


@pytest.mark.parametrize(
    ("date", "amount", "expected"),
    [
        ("어제", 1000, "column '구매일시': cannot read the date (check --date-format): '어제'"),
        ("2025-13-45", 1000, "column '구매일시': cannot read the date"),
        (None, 1000, "column '구매일시': cannot read the date (check --date-format): (empty)"),
        (dt.time(14, 22), 1000, "column '구매일시': cannot read the date"),
        ("[/]", 1000, "column '구매일시': cannot read the date (check --date-format): '[/]'"),
        ("2025-02-03", -5000, "column '금액': the amount is negative: '-5000'"),
        ("2025-02-03", "-5,000원", "column '금액': the amount is negative"),
        ("2025-02-03", "(5,000)", "column '금액': the amount is negative"),
        ("2025-02-03", "12,50", "column '금액': the amount is not a number: '12,50'"),
        ("2025-02-03", "무료", "column '금액': the amount is not a number"),
        ("2025-02-03", "#N/A", "column '금액': the amount is not a number"),
        ("2025-02-03", None, "column '금액': the amount is empty"),
    ],
)
def test_a_bad_cell_names_its_row_and_column(tmp_path, capsys, date, amount, expected):
    rows = shop_rows()
    rows.insert(9, ["C001", date, amount])  # row 10 in Excel: the header is row 1
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    err = _refused(capsys, path)
    assert f"row 10, {expected}" in err
    assert "10행" in err


def test_a_formula_without_a_saved_value_is_an_empty_cell(tmp_path, capsys):
    rows = shop_rows()
    rows.insert(4, ["C002", "2025-02-03", "=B2*2"])  # never opened in Excel: no value saved
    path = write_xlsx(tmp_path / "formula.xlsx", rows)
    assert "row 5, column '금액': the amount is empty" in _refused(capsys, path)


def test_many_bad_rows_are_counted(tmp_path, capsys):
    rows = shop_rows()
    for i in (3, 6, 12):
        rows[i][1] = "미정"
    err = _refused(capsys, write_xlsx(tmp_path / "bad.xlsx", rows))
    assert "row 4, column '구매일시'" in err and "3 such rows in all" in err


def test_sheet_is_for_xlsx_only(tmp_path, capsys):
    path = tmp_path / "sales.csv"
    path.write_text("c,d\n1,2025-01-01\n", encoding="utf-8")
    err = _refused(capsys, path, "--customer-col", "c", "--date-col", "d", "--sheet", "0")
    assert "--sheet" in err


def test_an_xlsx_read_as_csv_says_so(tmp_path, capsys):
    path = write_xlsx(tmp_path / "sales.dat", shop_rows())
    err = _refused(capsys, path, *KOREAN_COLUMNS, "--format", "csv")
    assert "--format xlsx" in err
