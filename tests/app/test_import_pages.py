"""The owner's import wizard: upload, the mapping with confidence and overrides, the preview of
the first rows as read, the check with its report (on screen and as CSV), the import and its
counts, past runs; bad input, roles and tenancy."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from dangol.audit.models import AuditAction, AuditEvent
from dangol.core.tenancy import shop_scope
from dangol.imports.models import ImportRun, ImportStatus
from dangol.imports.services import import_upload
from dangol.shops.models import Role
from dangol.shops.services import membership_grant
from tests.app.factories import make_shop
from tests.app.import_helpers import POS_HEADER, POS_ROWS, csv_bytes, db_counts

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parent / "import_corpus"
POS = csv_bytes([POS_HEADER, *POS_ROWS], encoding="cp949")


@pytest.fixture
def shop():
    the_shop, store, owner, _product = make_shop("wiz")
    users = get_user_model().objects
    staff = users.create_user(username="staff-wiz", password="x-long-pass-1")
    membership_grant(shop=the_shop, user=staff, role=Role.STAFF)
    manager = users.create_user(username="manager-wiz", password="x-long-pass-1")
    membership_grant(shop=the_shop, user=manager, role=Role.MANAGER)
    return SimpleNamespace(shop=the_shop, store=store, owner=owner, staff=staff, manager=manager)


@pytest.fixture
def owner(client, shop):
    client.force_login(shop.owner)
    return client


def _upload(client, data: bytes, *, name="포스_8월.csv", kind="purchases", preset=""):
    return client.post(
        reverse("web:import_start"),
        {"kind": kind, "preset": preset, "file": SimpleUploadedFile(name, data, "text/csv")},
    )


def _run_id(response) -> int:
    assert response.status_code == 302, response.content.decode()[:2000]
    return int(re.search(r"/imports/(\d+)/", response["Location"]).group(1))


def _runs(shop) -> list[ImportRun]:
    with shop_scope(shop):
        return list(ImportRun.objects.for_shop(shop).order_by("pk"))


def _run(shop, run_id) -> ImportRun:
    with shop_scope(shop):
        return ImportRun.objects.for_shop(shop).get(pk=run_id)


def _html(response) -> str:
    return response.content.decode()


def _column(html: str, index: int) -> str:
    """One column's item on the mapping page."""
    match = re.search(rf'<li class="column" data-column="{index}".*?</li>', html, re.S)
    assert match, f"no column {index}"
    return match.group(0)


def _selected(item: str) -> str:
    match = re.search(r'<option value="([^"]*)" selected>', item)
    return match.group(1) if match else ""


def _mapping_post(html: str, **changes: str) -> dict[str, str]:
    """The mapping form as a browser submits it, with some selects changed."""
    data = {"was_preset": re.search(r'name="was_preset" value="([^"]*)"', html).group(1)}
    for index in re.findall(r'<li class="column" data-column="(\d+)"', html):
        data[f"col-{index}"] = _selected(_column(html, int(index)))
    data.update(changes)
    return data


# ── step 1 ─────────────────────────────────────────────────────────────────────────────────


def test_start_page_has_the_upload_form_and_lists_past_runs(owner, shop):
    with shop_scope(shop.shop):
        import_upload(shop=shop.shop, kind="customers", data=b"a,b\n1,2\n", file_name="old.csv")
    response = owner.get(reverse("web:import_start"))
    html = _html(response)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert 'type="file"' in html and 'accept=".csv,.txt,.tsv,.xlsx,.xls"' in html
    for kind in ("customers", "purchases", "products"):
        assert f'value="{kind}"' in html
    for preset in ("baemin", "coupangeats", "yogiyo"):
        assert f'value="{preset}"' in html
    assert "배달의민족" in html and "쿠팡이츠" in html and "요기요" in html
    assert "최대 20MB" in html
    assert 'data-status="uploaded"' in html and "old.csv" in html


def test_upload_keeps_the_file_and_opens_the_mapping(owner, shop):
    before = db_counts(shop.shop)
    run_id = _run_id(_upload(owner, POS))
    run = _run(shop.shop, run_id)
    assert run.status == ImportStatus.UPLOADED and run.kind == "purchases"
    assert run.file_name == "포스_8월.csv" and run.created_by == shop.owner
    assert db_counts(shop.shop) == before  # nothing is imported by the upload
    html = _html(owner.get(reverse("web:import_mapping", args=[run_id])))
    assert "CP949" in html
    # every column with its field and confidence; nothing required is missing
    occurred = _column(html, 0)
    assert "거래일시" in occurred and _selected(occurred) == "occurred_at"
    assert 'data-confidence="100"' in occurred and "c-high" in occurred
    assert _selected(_column(html, 8)) == "total"
    assert "data-missing" not in html
    # the first rows as they will be read: dates and amounts parsed, phone normalised
    first = re.search(r'data-row="2".*?</div>', html, re.S).group(0)
    assert "2025-08-11 10:06" in first and "9,000" in first and "010-2345-6789" in first
    assert "9,000원" in first  # the file's own text, shown beside what is read
    third = re.search(r'data-row="5".*?</div>', html, re.S).group(0)
    assert "2025-08-13" in third  # "2025년 8월 13일"


def test_confidence_levels_and_missing_required_fields(owner, shop):
    data = csv_bytes(
        [
            ["결제 일시", "결제금액(원)", "메뉴 이름", "비고"],
            ["2025-08-11 10:06", "5,000", "라떼", "x"],
        ]
    )
    html = _html(owner.get(reverse("web:import_mapping", args=[_run_id(_upload(owner, data))])))
    assert 'data-confidence="90"' in _column(html, 0) and "c-high" in _column(html, 0)
    assert _selected(_column(html, 1)) == "total"
    assert 'data-confidence="60"' in _column(html, 2) and "c-mid" in _column(html, 2)
    assert _selected(_column(html, 3)) == "" and "c-none" in _column(html, 3)

    customers = csv_bytes([["이름", "메모"], ["김민지", "단골"]])
    run_id = _run_id(_upload(owner, customers, name="고객.csv", kind="customers"))
    html = _html(owner.get(reverse("web:import_mapping", args=[run_id])))
    missing = re.search(r'data-missing="(\d+)".*?</div>', html, re.S)
    assert missing and missing.group(1) == "1" and "전화번호" in missing.group(0)


def test_override_redraws_columns_and_preview_live_and_by_plain_post(owner, shop):
    run_id = _run_id(_upload(owner, POS))
    html = _html(owner.get(reverse("web:import_mapping", args=[run_id])))
    # 고객명 (column 2) is not imported: the live part drops it from the rows
    data = _mapping_post(html, **{"col-2": ""})
    part = owner.post(reverse("web:import_preview", args=[run_id]), data, HTTP_HX_REQUEST="true")
    assert part.status_code == 200
    body = _html(part)
    assert "<html" not in body  # only the live part
    assert "c-manual" in _column(body, 2) and _selected(_column(body, 2)) == ""
    assert "김민지" not in re.search(r'data-section="preview".*', body, re.S).group(0)
    # the same by a plain form post (the "update preview" button)
    page = owner.post(reverse("web:import_mapping", args=[run_id]), {**data, "op": "preview"})
    assert page.status_code == 200 and "<html" in _html(page)
    assert "c-manual" in _column(_html(page), 2)
    # choosing the amount column away marks the requirement as missing
    data = _mapping_post(html, **{"col-8": "", "col-6": ""})
    body = _html(owner.post(reverse("web:import_preview", args=[run_id]), data))
    assert "data-missing" in body and "결제금액" in body


def test_a_preset_maps_a_delivery_app_file(owner, shop):
    header = ["주문번호", "주문일시", "메뉴", "수량", "주문금액", "결제금액", "안심번호"]
    row = ["B1", "2025-08-11 19:00", "치킨", "1", "20,000", "18,000", "050-1234-5678"]
    data = csv_bytes([header, row])
    refused = _upload(owner, data, kind="customers", preset="baemin")
    assert refused.status_code == 400 and not _runs(shop.shop)
    response = _upload(owner, data, preset="baemin")
    run_id = _run_id(response)
    assert response["Location"].endswith("?preset=baemin")
    html = _html(owner.get(response["Location"]))
    assert re.search(r'<option value="baemin" selected>', html)
    assert _selected(_column(html, 4)) == "total" and _selected(_column(html, 5)) == ""
    assert _selected(_column(html, 6)) == ""  # 안심번호: a temporary number, never used
    assert "c-preset" in _column(html, 4) and "c-manual" not in html
    check = owner.post(
        reverse("web:import_check", args=[run_id]), _mapping_post(html, preset="baemin")
    )
    assert check.status_code == 302
    run = _run(shop.shop, run_id)
    assert run.status == ImportStatus.CHECKED and run.mapping == {"preset": "baemin"}
    # switching the preset live redraws from the new preset: the old selects are not overrides
    switched = _mapping_post(html, preset="")
    body = _html(owner.post(reverse("web:import_preview", args=[run_id]), switched))
    assert "c-preset" not in body and 'name="was_preset" value=""' in body
    assert "c-high" in _column(body, 4) and _selected(_column(body, 4)) == "total"


# ── steps 4 and 5 ──────────────────────────────────────────────────────────────────────────


def _check(client, run_id, **changes):
    html = _html(client.get(reverse("web:import_mapping", args=[run_id])))
    return client.post(reverse("web:import_check", args=[run_id]), _mapping_post(html, **changes))


def test_check_then_import_then_the_same_file_changes_nothing(owner, shop):
    before = db_counts(shop.shop)
    run_id = _run_id(_upload(owner, POS))
    response = _check(owner, run_id)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:import_result", args=[run_id])
    assert db_counts(shop.shop) == before  # a check writes nothing
    html = _html(owner.get(response["Location"]))
    assert 'data-outcome="checked"' in html
    assert re.search(r'data-count="purchases_created".*?data-value="3"', html, re.S)
    assert 'data-action="import"' in html and "data-nothing-changed" not in html

    response = owner.post(reverse("web:import_apply", args=[run_id]))
    assert response.status_code == 302
    after = db_counts(shop.shop)
    assert after["purchases"] == before["purchases"] + 3
    assert after["lines"] == before["lines"] + 4
    assert after["customers"] == before["customers"] + 2
    html = _html(owner.get(reverse("web:import_result", args=[run_id])))
    assert 'data-outcome="imported"' in html
    for key, value in (("rows", 4), ("purchases_created", 3), ("customers_created", 2)):
        assert re.search(rf'data-count="{key}".*?data-value="{value}"', html, re.S), key
    assert html.count('class="explain"') >= 4  # each number with its sentence
    assert reverse("web:customers") in html and reverse("web:segments") in html
    run = _run(shop.shop, run_id)
    assert run.status == ImportStatus.IMPORTED and run.dry_run is False
    with shop_scope(shop.shop):
        event = AuditEvent.objects.for_shop(shop.shop).get(object_type="import")
    assert event.action == AuditAction.CHANGE and event.object_id == str(run_id)
    assert event.rows == 4 and event.user == shop.owner and "포스_8월.csv" in event.reason

    # posting the import again does not run it again
    owner.post(reverse("web:import_apply", args=[run_id]))
    assert db_counts(shop.shop) == after and _run(shop.shop, run_id).counts == run.counts

    # the same file uploaded again: the check and the import both say nothing changes
    again = _run_id(_upload(owner, POS))
    _check(owner, again)
    assert "data-nothing-changed" in _html(owner.get(reverse("web:import_result", args=[again])))
    owner.post(reverse("web:import_apply", args=[again]))
    html = _html(owner.get(reverse("web:import_result", args=[again])))
    assert 'data-outcome="imported"' in html and "data-nothing-changed" in html
    assert re.search(r'data-count="purchases_existing".*?data-value="3"', html, re.S)
    assert db_counts(shop.shop) == after

    # both runs are listed on the first page with their status and counts
    start = _html(owner.get(reverse("web:import_start")))
    assert start.count('data-status="imported"') == 2


def test_a_file_with_errors_shows_the_report_and_writes_nothing(owner, shop):
    before = db_counts(shop.shop)
    data = (CORPUS / "bad_values.csv").read_bytes()
    run_id = _run_id(_upload(owner, data, name="bad_values.csv", kind="customers"))
    _check(owner, run_id)
    run = _run(shop.shop, run_id)
    assert run.status == ImportStatus.FAILED
    html = _html(owner.get(reverse("web:import_result", args=[run_id])))
    assert 'data-outcome="failed"' in html and 'data-action="import"' not in html
    report = re.search(r'data-section="report".*', html, re.S).group(0)
    # row, column, value and reason on screen
    phone = re.search(r'data-code="phone_invalid" data-row="2">.*?</li>', report, re.S).group(0)
    assert "휴대폰" in phone and "010-12" in phone
    gender = re.search(r'data-code="gender_invalid" data-row="3">.*?</li>', report, re.S).group(0)
    assert "성별" in gender and "?" in gender and "남/여" in gender
    # and as a downloadable CSV
    response = owner.get(reverse("web:import_report_csv", args=[run_id]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["행/row", "열/column", "값/value"]
    assert ["2", "휴대폰", "010-12", "phone_invalid"] in [r[:4] for r in rows]
    assert {r[3] for r in rows[1:]} >= {"name_missing", "date_invalid", "consent_invalid"}
    with shop_scope(shop.shop):
        assert (
            AuditEvent.objects.for_shop(shop.shop)
            .filter(object_type="import_report", action=AuditAction.EXPORT)
            .exists()
        )
    # importing a failed run does nothing
    response = owner.post(reverse("web:import_apply", args=[run_id]))
    assert response.status_code == 302
    assert _run(shop.shop, run_id).status == ImportStatus.FAILED
    assert db_counts(shop.shop) == before


def test_missing_required_column_fails_the_check_with_the_reason(owner, shop):
    run_id = _run_id(_upload(owner, POS))
    _check(owner, run_id, **{"col-0": ""})  # no time of sale
    run = _run(shop.shop, run_id)
    assert run.status == ImportStatus.FAILED
    assert [p["code"] for p in run.report["problems"]] == ["missing_column"]
    assert run.mapping == {"columns": {"거래일시": None}}
    # back on the mapping page the saved choice is kept
    html = _html(owner.get(reverse("web:import_mapping", args=[run_id])))
    assert _selected(_column(html, 0)) == "" and "data-missing" in html


# ── bad input ──────────────────────────────────────────────────────────────────────────────


def _kept(shop, data: bytes) -> bool:
    """Whether the wizard kept these bytes for its next steps."""
    return (
        Path(settings.DATA_DIR) / "imports" / str(shop.pk) / hashlib.sha256(data).hexdigest()
    ).exists()


def test_no_file_is_refused(owner, shop):
    response = owner.post(reverse("web:import_start"), {"kind": "customers"})
    assert response.status_code == 400
    assert "Choose a file" in _html(response) or "파일을 선택" in _html(response)
    assert not _runs(shop.shop)


def test_a_25_mb_file_is_refused_and_not_kept(owner, shop):
    data = b"\xec\x9d\xb4\xeb\xa6\x84,\xed\x9c\xb4\xeb\x8c\x80\xed\x8f\xb0\n" + b"x" * (25 << 20)
    response = _upload(owner, data, name="big.csv", kind="customers")
    assert response.status_code == 400
    assert "20MB보다 큽니다" in _html(response)
    assert not _runs(shop.shop) and not _kept(shop.shop, data)


def test_a_binary_file_with_a_csv_name_is_refused_with_the_reason(owner, shop):
    data = (CORPUS / "binary_garbage.csv").read_bytes()
    response = _upload(owner, data, name="binary_garbage.csv")
    assert response.status_code == 400
    assert "binary" in _html(response) or "이진" in _html(response)
    assert not _runs(shop.shop) and not _kept(shop.shop, data)


def test_unknown_kind_is_refused(owner, shop):
    response = _upload(owner, POS, kind="orders")
    assert response.status_code == 400 and not _runs(shop.shop)


def test_upload_needs_the_csrf_token(shop):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop.owner)
    response = _upload(client, POS)
    assert response.status_code == 403 and not _runs(shop.shop)


# ── roles and tenancy ──────────────────────────────────────────────────────────────────────


def _run_routes(run_id):
    return [
        ("get", reverse("web:import_mapping", args=[run_id])),
        ("post", reverse("web:import_mapping", args=[run_id])),
        ("post", reverse("web:import_preview", args=[run_id])),
        ("post", reverse("web:import_check", args=[run_id])),
        ("get", reverse("web:import_report_csv", args=[run_id])),
        ("post", reverse("web:import_apply", args=[run_id])),
        ("get", reverse("web:import_result", args=[run_id])),
    ]


def test_staff_cannot_import(client, shop):
    with shop_scope(shop.shop):
        run = import_upload(shop=shop.shop, kind="purchases", data=POS, file_name="pos.csv")
    client.force_login(shop.staff)
    assert client.get(reverse("web:import_start")).status_code == 403
    assert _upload(client, POS).status_code == 403
    for method, url in _run_routes(run.pk):
        assert getattr(client, method)(url).status_code == 403, url
    assert len(_runs(shop.shop)) == 1
    assert 'data-link="import"' not in _html(client.get(reverse("web:customers")))


def test_a_manager_can_import(client, shop):
    client.force_login(shop.manager)
    assert 'data-link="import"' in _html(client.get(reverse("web:customers")))
    run_id = _run_id(_upload(client, POS))
    _check(client, run_id)
    client.post(reverse("web:import_apply", args=[run_id]))
    assert _run(shop.shop, run_id).status == ImportStatus.IMPORTED


def test_another_shops_run_is_404(owner, shop):
    other, *_ = make_shop("wiz-other")
    with shop_scope(other):
        theirs = import_upload(shop=other, kind="purchases", data=POS, file_name="theirs.csv")
    for method, url in _run_routes(theirs.pk):
        assert getattr(owner, method)(url).status_code == 404, url
    assert "theirs.csv" not in _html(owner.get(reverse("web:import_start")))
    assert _run(other, theirs.pk).status == ImportStatus.UPLOADED
