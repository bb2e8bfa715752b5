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
    assert result.returncode == 2 and "1 rows" in result.stderr

    cp949 = tmp_path / "cp949.csv"
    cp949.write_bytes("고객,일시\n김,2025-01-01\n".encode("cp949"))
    result = dangol(
        "analyze",
        str(cp949),
        "--customer-col",
        "0",
        "--date-col",
        "1",
        "--calibration-end",
        "2025-06-30",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr

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
