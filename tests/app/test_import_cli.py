"""`dangol import` in-process against the test database: exit codes, report file, dry run."""

from __future__ import annotations

import json

import pytest

from dangol.cli.main import main
from tests.app.factories import make_shop
from tests.app.import_helpers import POS_HEADER, POS_ROWS, csv_bytes, db_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return make_shop("cli-imp")[0]


def test_import_purchases_and_json_report(shop, tmp_path, capsys):
    path = tmp_path / "포스.csv"
    path.write_bytes(csv_bytes([POS_HEADER, *POS_ROWS], encoding="cp949"))
    report = tmp_path / "report.json"
    code = main(["import", "purchases", str(path), "--shop", shop.slug, "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "가져오기 완료" in out and "새 구매 / new purchases: 3" in out
    body = json.loads(report.read_text(encoding="utf-8"))
    assert body["status"] == "imported" and body["counts"]["purchases_created"] == 3
    assert body["errors"] == 0


def test_dry_run_and_errors_change_nothing(shop, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_bytes([POS_HEADER, *POS_ROWS, ["어제", "R-9", "", "", "", "", "", "", "1"]])
    )
    before = db_counts(shop)
    report = tmp_path / "r.json"
    code = main(["import", "purchases", str(path), "--shop", shop.slug, "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 1
    assert "6행/row 6 [거래일시] '어제'" in out and "nothing changed" in out
    assert json.loads(report.read_text())["problems"][0]["code"] == "date_invalid"
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([POS_HEADER, *POS_ROWS]))
    assert main(["import", "purchases", str(good), "--shop", shop.slug, "--dry-run"]) == 0
    assert "checked, nothing written" in capsys.readouterr().out
    assert db_counts(shop) == before


def test_mapping_file_and_user_errors(shop, tmp_path, capsys):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes([["손님", "번호"], ["김민지", "010-2345-6789"]]))
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"columns": {"손님": "name", "번호": "phone"}}), "utf-8")
    assert (
        main(["import", "customers", str(path), "--shop", shop.slug, "--mapping", str(mapping)])
        == 0
    )
    assert db_counts(shop)["customers"] == 1
    capsys.readouterr()
    assert main(["import", "customers", str(tmp_path / "nope.csv"), "--shop", shop.slug]) == 2
    assert "파일이 없습니다" in capsys.readouterr().err
    mapping.write_text("{not json", "utf-8")
    assert (
        main(["import", "customers", str(path), "--shop", shop.slug, "--mapping", str(mapping)])
        == 2
    )
    assert "JSON" in capsys.readouterr().err
    assert main(["import", "customers", str(path), "--shop", "no-such-shop"]) == 2
