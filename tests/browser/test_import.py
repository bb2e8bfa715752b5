"""On a phone, the owner brings in a small POS export saved in CP949: uploads it, tells the
wizard which column is the amount (the live preview follows), checks it, imports it and sees
the counts."""

from __future__ import annotations

import re

from dangol.core.tenancy import shop_scope
from dangol.imports.models import ImportRun, ImportStatus
from dangol.sales.models import Purchase
from tests.app.factories import make_shop
from tests.app.import_helpers import csv_bytes

# A POS export whose amount column has a name the wizard does not know ("받은돈").
HEADER = ["판매일시", "전표번호", "고객명", "휴대폰", "메뉴", "수량", "받은돈"]
ROWS = [
    ["2025-08-11 10:06", "R-1001", "김민지", "010-2345-6789", "아메리카노", "2", "9,000원"],
    ["2025.8.12 14:30", "R-1002", "", "", "카페라떼", "1", "5,000"],
    ["2025년 8월 13일", "R-1003", "박서준", "01033334444", "아메리카노", "1", "4500"],
]
AMOUNT = 6  # the column index of 받은돈


def _settled(page) -> None:
    """Wait until htmx has finished every request and bound its handlers to swapped-in content
    (new content carries ``htmx-added`` until then)."""
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-added, .htmx-request, .htmx-settling, .htmx-swapping')",
        timeout=10_000,
    )


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_owner_imports_a_pos_export_on_a_phone(live_server, phone_page, artifacts):
    shop, _store, _owner, _product = make_shop("wizard")
    data = csv_bytes([HEADER, *ROWS], encoding="cp949")

    page = phone_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("아이디").fill("owner-wizard")
    page.get_by_label("비밀번호").fill("correct horse battery")
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url(f"{live_server.url}/")

    # 1. from the customers page to the upload form
    page.goto(f"{live_server.url}/customers/")
    page.locator('[data-link="import"]').click()
    page.wait_for_url(f"{live_server.url}/imports/")
    page.check('input[name="kind"][value="purchases"]')
    page.set_input_files(
        'input[name="file"]',
        files=[{"name": "포스_8월.csv", "mimeType": "text/csv", "buffer": data}],
    )
    _fits(page)
    page.locator("form.import-upload button[type=submit]").click()

    # 2. the columns: the amount column is unknown, so a required field is marked missing
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    run_id = int(re.search(r"/imports/(\d+)/$", page.url).group(1))
    assert "CP949" in page.locator("p.meta").first.inner_text()
    assert page.locator("[data-missing]").is_visible()
    first = page.locator('[data-column="0"]')
    assert first.locator("select").input_value() == "occurred_at"
    assert first.locator(".badge").get_attribute("data-confidence") == "100"
    assert page.locator(f'[data-column="{AMOUNT}"] select').input_value() == ""
    _fits(page)

    # the override: 받은돈 is the amount paid; the preview and the marks follow live
    _settled(page)
    page.select_option(f"#col-{AMOUNT}", "total")
    page.wait_for_selector(f'[data-column="{AMOUNT}"] .badge.c-manual', timeout=10_000)
    _settled(page)
    assert page.locator("[data-missing]").count() == 0
    row = page.locator('[data-row="2"]').inner_text()
    assert "2025-08-11 10:06" in row and "9,000" in row and "010-2345-6789" in row
    assert "2025-08-13" in page.locator('[data-row="4"]').inner_text()
    _fits(page)
    page.screenshot(path=str(artifacts / "import-mapping-390px.png"), full_page=True)

    # 4. the check: nothing written yet, what importing would do is shown
    page.locator('[data-action="check"]').click()
    page.wait_for_url(re.compile(rf"/imports/{run_id}/result/$"))
    assert page.locator('[data-outcome="checked"]').is_visible()
    with shop_scope(shop):
        assert Purchase.objects.for_shop(shop).count() == 0
    would = page.locator('[data-count="purchases_created"] [data-value]')
    assert would.get_attribute("data-value") == "3"
    _fits(page)

    # 5. the import and its counts
    page.locator('[data-action="import"]').click()
    page.wait_for_selector('[data-outcome="imported"]')
    counts = {
        key: page.locator(f'[data-count="{key}"] [data-value]').get_attribute("data-value")
        for key in ("rows", "purchases_created", "customers_created")
    }
    assert counts == {"rows": "3", "purchases_created": "3", "customers_created": "2"}
    assert page.locator('[data-count="purchases_created"] .explain').inner_text().strip()
    assert page.locator("[data-nothing-changed]").count() == 0
    _fits(page)
    page.screenshot(path=str(artifacts / "import-result-390px.png"), full_page=True)
    with shop_scope(shop):
        run = ImportRun.objects.for_shop(shop).get(pk=run_id)
        assert run.status == ImportStatus.IMPORTED
        assert run.mapping == {"columns": {"받은돈": "total"}}
        totals = sorted(Purchase.objects.for_shop(shop).values_list("total", flat=True))
    assert totals == [4500, 5000, 9000]

    # the run is listed on the wizard's first page
    page.goto(f"{live_server.url}/imports/")
    assert page.locator(f'[data-run="{run_id}"][data-status="imported"]').is_visible()
    _fits(page)
    page.screenshot(path=str(artifacts / "import-start-390px.png"), full_page=True)
