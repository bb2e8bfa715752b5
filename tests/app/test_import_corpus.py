"""The hostile-file corpus: each file gets its specific report and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dangol.imports.decoding import MAX_CELL_CHARS, MAX_COLUMNS
from dangol.imports.models import ImportStatus
from dangol.imports.report import Report, report_csv
from tests.app.factories import make_customer, make_purchases, make_shop
from tests.app.import_helpers import codes, csv_bytes, db_counts, run

CORPUS = Path(__file__).parent / "import_corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
FILES = sorted(name for name in EXPECTED if not name.startswith("_"))

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """A shop that already has data, so "changes nothing" means something."""
    the_shop, store, _owner, product = make_shop("corpus")
    customer = make_customer(the_shop, name="김민지", phone="010-2345-6789")
    make_purchases(the_shop, store, product, customer, days_ago=[3, 10])
    return the_shop


def test_every_file_in_the_corpus_has_an_expectation():
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "expected.json"}
    assert on_disk == set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_hostile_file_gets_its_report_and_changes_nothing(shop, name):
    expected = EXPECTED[name]
    before = db_counts(shop)
    result = run(shop, expected["kind"], (CORPUS / name).read_bytes(), name)
    assert result.status == ImportStatus.FAILED
    errors = [p for p in result.report["problems"] if p["severity"] == "error"]
    assert [[p["row"], p["column"], p["code"]] for p in errors] == expected["errors"]
    for problem in errors:  # bilingual, and not a bare exception text
        assert problem["ko"] and problem["en"] and problem["ko"] != problem["en"]
        assert "Traceback" not in problem["en"]
    assert db_counts(shop) == before


def test_formula_is_neutralised_in_the_report_file(shop):
    result = run(shop, "customers", (CORPUS / "formula_injection.csv").read_bytes())
    text = report_csv(report=Report.from_dict(result.report)).decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and "'@SUM(" in text
    assert ',"=HYPERLINK' not in text and ",=HYPERLINK" not in text


def test_a_10_mb_cell(shop):
    before = db_counts(shop)
    huge = "가" * (10 * 1024 * 1024 // 3)
    data = csv_bytes([["이름", "연락처"], ["김민지", "010-2345-6789"], [huge, "010-3333-4444"]])
    assert len(data) > 10_000_000
    result = run(shop, "customers", data)
    assert codes(result) == ["cell_too_long"]
    assert result.report["problems"][0]["row"] == 3
    assert db_counts(shop) == before


def test_a_cell_over_the_limit_but_under_the_csv_field_limit(shop):
    data = csv_bytes([["이름", "연락처"], ["a" * (MAX_CELL_CHARS + 1), "010-3333-4444"]])
    result = run(shop, "customers", data)
    assert codes(result) == ["cell_too_long"]


def test_a_200000_column_row(shop):
    before = db_counts(shop)
    wide = ["x"] * 200_000
    data = csv_bytes([["이름", "연락처"], ["김민지", "010-2345-6789"], wide])
    result = run(shop, "customers", data)
    assert codes(result) == ["too_many_columns"]
    problem = result.report["problems"][0]
    assert problem["row"] == 3 and "200,000" in problem["en"] and str(MAX_COLUMNS) in problem["en"]
    header_too_wide = run(shop, "customers", csv_bytes([wide, wide]))
    assert codes(header_too_wide) == ["too_many_columns"]
    assert db_counts(shop) == before


def test_a_million_bad_rows_are_counted_but_listed_only_up_to_the_cap(shop):
    rows = [["결제일시", "결제금액"]] + [["언젠가", "1000"]] * 5000
    result = run(shop, "purchases", csv_bytes(rows))
    assert result.report["errors"] == 5000
    assert len(result.report["problems"]) == 1000 and result.report["unlisted"] == 4000
