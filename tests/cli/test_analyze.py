"""`dangol analyze` reproduces the published CDNOW figures and rejects bad input clearly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CDNOW = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"
)


def dangol(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dangol.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cdnow_reproduces_the_published_figures(tmp_path):
    out = tmp_path / "out.json"
    result = dangol(
        "analyze",
        str(CDNOW),
        "--format",
        "cdnow",
        "--customer-col",
        "0",
        "--date-col",
        "2",
        "--amount-col",
        "4",
        "--calibration-end",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--json",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["customers"] == 2357
    bg = report["bgnbd"]
    assert [round(bg[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert bg["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    pn = report["pareto_nbd"]
    assert [round(pn[k], 3) for k in ("r", "alpha", "s", "beta")] == [0.553, 10.578, 0.606, 11.669]
    assert pn["log_likelihood"] == pytest.approx(-9595.0, abs=0.05)
    gg = report["gamma_gamma"]
    assert [round(gg["p"], 2), round(gg["q"], 2), round(gg["gamma"], 2)] == [6.25, 3.74, 15.44]
    holdout = report["holdout"]
    assert holdout["actual_total"] == 1882
    assert holdout["bgnbd_predicted_total"] == pytest.approx(1653, abs=1)
    assert holdout["pareto_predicted_total"] == pytest.approx(1666, abs=1)
    assert holdout["bgnbd_correlation"] == pytest.approx(0.626, abs=0.001)
    assert "2,357 customers" in result.stdout


def test_csv_input_and_bad_input(tmp_path):
    good = tmp_path / "sales.csv"
    lines = ["고객,결제일시,결제금액"]
    for cust in range(40):
        for visit in range(cust % 5 + 1):
            lines.append(f"C{cust},2025-0{1 + visit}-{10 + cust % 15} 10:00,{4500 * (visit + 1)}")
    good.write_text("\n".join(lines), encoding="utf-8")
    ok = dangol(
        "analyze",
        str(good),
        "--customer-col",
        "고객",
        "--date-col",
        "결제일시",
        "--amount-col",
        "결제금액",
        "--calibration-end",
        "2025-06-30",
        "--unit",
        "D",
    )
    assert ok.returncode == 0, ok.stderr
    assert "40 customers" in ok.stdout

    missing = dangol(
        "analyze",
        str(good),
        "--customer-col",
        "이름",
        "--date-col",
        "결제일시",
        "--calibration-end",
        "2025-06-30",
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "--customer-col" in missing.stderr and "고객" in missing.stderr

    bad_dates = tmp_path / "bad.csv"
    bad_dates.write_text("c,d\n1,2025-01-01\n2,어제\n", encoding="utf-8")
    result = dangol(
        "analyze",
        str(bad_dates),
        "--customer-col",
        "c",
        "--date-col",
        "d",
        "--calibration-end",
        "2025-06-30",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "row 3, column 'd': cannot read the date" in result.stderr and "3행" in result.stderr

    nofile = dangol(
        "analyze",
        str(tmp_path / "nope.csv"),
        "--customer-col",
        "0",
        "--date-col",
        "1",
        "--calibration-end",
        "2025-06-30",
    )
    assert nofile.returncode == 2 and "nope.csv" in nofile.stderr


def _sales_csv(amount_text=str, sep=",") -> str:
    lines = [sep.join(["고객", "결제일시", "결제금액"])]
    for cust in range(40):
        for visit in range(cust % 5 + 1):
            amount = amount_text(4500 * (visit + 1))
            at = f"2025.0{1 + visit}.{10 + cust % 15} 오후 2:22:00"
            lines.append(sep.join([f"C{cust}", at, amount]))
    return "\r\n".join(lines) + "\r\n"


def _analyze_csv(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return dangol(
        "analyze",
        str(path),
        *("--customer-col", "고객", "--date-col", "결제일시", "--amount-col", "결제금액"),
        *("--calibration-end", "2025-06-30", "--unit", "D", *extra),
    )


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("cp949", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe")],
    ids=["cp949", "utf-8-bom", "utf-16-bom"],
)
def test_csv_from_korean_excel_encodings(tmp_path, encoding, prefix):
    # Korean Excel saves "CSV" as CP949, "CSV UTF-8" with a byte-order mark, and "Unicode text"
    # as tab-separated UTF-16; amounts keep their thousands separators when quoted.
    if encoding.startswith("utf-16"):
        text = _sales_csv(lambda amount: f"{amount:,}원", sep="\t")
    else:
        text = _sales_csv(lambda amount: f'"{amount:,}원"')
    path = tmp_path / "sales.csv"
    path.write_bytes(prefix + text.encode(encoding))
    result = _analyze_csv(path)
    assert result.returncode == 0, result.stderr
    assert "40 customers" in result.stdout


def test_csv_that_is_neither_utf8_nor_cp949_names_the_line(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes(
        "고객,결제일시,결제금액\nC1,2025-01-01,1000\n".encode() + b"C2,\xff\xfe\xff,1\n"
    )
    result = _analyze_csv(path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Line 3" in result.stderr and "CP949" in result.stderr


def test_csv_hostile_ids_and_bad_amounts(tmp_path):
    text = _sales_csv()
    hostile = ["\"=cmd|' /C calc'!A0\"", "nul\x00inside", "x" * 100_000, "[bold]id[/bold]"]
    for i, customer in enumerate(hostile):
        text += f"{customer},2025-02-0{i + 1},1000\r\n{customer},2025-03-0{i + 1},1000\r\n"
    good = tmp_path / "hostile.csv"
    good.write_text(text, encoding="utf-8")
    out = tmp_path / "out.json"
    result = _analyze_csv(good, "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["customers"] == 40 + len(hostile)

    for amount, reason in (("-4500", "negative"), ('"4,5000"', "not a number"), ("", "empty")):
        bad = tmp_path / "bad.csv"
        bad.write_text(text.replace(",4500\r\n", f",{amount}\r\n", 1), encoding="utf-8")
        result = _analyze_csv(bad)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"row 2, column '결제금액': the amount is {reason}" in result.stderr
