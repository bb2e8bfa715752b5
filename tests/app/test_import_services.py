"""import_run against a real database: what is written, idempotency, consent, all-or-nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from dangol.core.config import new_key
from dangol.customers.models import ConsentEvent, ConsentKind, Customer
from dangol.customers.services import ConsentInput, consent_record
from dangol.imports.models import ImportRun, ImportStatus
from dangol.sales.models import CustomerStats, Purchase, PurchaseLine, PurchaseStatus
from tests.app.factories import make_customer, make_shop
from tests.app.import_helpers import (
    POS_HEADER,
    POS_ROWS,
    codes,
    csv_bytes,
    db_counts,
    run,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return make_shop("imp")


def test_pos_export_in_cp949_groups_lines_and_links_customers(shop):
    the_shop, store, _owner, product = shop
    data = csv_bytes([POS_HEADER, *POS_ROWS], encoding="cp949")
    result = run(the_shop, "purchases", data, "포스_8월.csv")
    assert result.status == ImportStatus.IMPORTED, result.report
    assert result.counts["purchases_created"] == 3
    assert result.counts["lines_created"] == 4
    assert result.counts["customers_created"] == 2
    r1001 = Purchase.objects.for_shop(the_shop).get(external_id="R-1001")
    assert r1001.total == 12_500 and r1001.discount == 300
    assert r1001.source == "import" and r1001.store_id == store.pk
    seoul = dt.timezone(dt.timedelta(hours=9))
    assert r1001.occurred_at == dt.datetime(2025, 8, 11, 10, 6, tzinfo=seoul)
    lines = PurchaseLine.objects.for_shop(the_shop).filter(purchase=r1001).order_by("pk")
    assert [(li.name, li.quantity, li.unit_price) for li in lines] == [
        ("아메리카노", 2, 4500),
        ("크루아상", 1, 3800),
    ]
    assert lines[0].product_id == product.pk  # matched by name
    anonymous = Purchase.objects.for_shop(the_shop).get(external_id="R-1002")
    assert anonymous.customer_id is None
    minji = Customer.objects.for_shop(the_shop).get(pk=r1001.customer_id)
    assert minji.name == "김민지" and minji.phone == "+821023456789"
    stats = CustomerStats.objects.for_shop(the_shop).get(customer=minji)
    assert (stats.visits, stats.total_spend) == (1, 12_500)


def test_reimport_changes_nothing(shop):
    the_shop = shop[0]
    data = csv_bytes([POS_HEADER, *POS_ROWS])
    run(the_shop, "purchases", data)
    before = db_counts(the_shop)
    again = run(the_shop, "purchases", data)
    assert again.status == ImportStatus.IMPORTED
    assert again.counts["purchases_existing"] == 3
    assert again.counts.get("purchases_created", 0) == 0
    assert db_counts(the_shop) == before


def test_file_without_ids_is_idempotent_by_content_hash(shop):
    the_shop = shop[0]
    rows = [
        ["결제일시", "연락처", "결제금액"],
        ["2025-08-01 09:00", "010-2345-6789", "4,500"],
        ["2025-08-02 09:00", "010-2345-6789", "4,500"],
    ]
    first = run(the_shop, "purchases", csv_bytes(rows))
    assert first.counts["purchases_created"] == 2
    ids = set(Purchase.objects.for_shop(the_shop).values_list("external_id", flat=True))
    assert all(i.startswith("h-") for i in ids)
    second = run(the_shop, "purchases", csv_bytes(rows))
    assert second.counts["purchases_existing"] == 2
    assert Purchase.objects.for_shop(the_shop).count() == 2


def test_matches_existing_customer_by_phone(shop):
    the_shop = shop[0]
    known = make_customer(the_shop, name="김민지", phone="010-2345-6789")
    rows = [["결제일시", "연락처", "결제금액"], ["2025-08-01 09:00", "+82 10-2345-6789", "4,500"]]
    result = run(the_shop, "purchases", csv_bytes(rows))
    assert result.counts.get("customers_created", 0) == 0
    assert Purchase.objects.for_shop(the_shop).get().customer_id == known.pk


def test_matches_existing_customers_while_the_blind_index_key_is_rotated(shop, settings):
    the_shop = shop[0]
    known = make_customer(the_shop, name="김민지", phone="010-2345-6789")
    # A new blind-index key in front: the known customer is still indexed under the old one.
    settings.DANGOL_BLIND_INDEX_KEYS = [new_key(), *settings.DANGOL_BLIND_INDEX_KEYS]
    customers = [["이름", "연락처"], ["김민지", "010-2345-6789"]]
    result = run(the_shop, "customers", csv_bytes(customers))
    assert result.counts.get("customers_created", 0) == 0
    purchases = [["결제일시", "연락처", "결제금액"], ["2025-08-01 09:00", "010-2345-6789", "4,500"]]
    result = run(the_shop, "purchases", csv_bytes(purchases))
    assert result.counts.get("customers_created", 0) == 0
    assert Customer.objects.for_shop(the_shop).count() == 1
    assert Purchase.objects.for_shop(the_shop).get().customer_id == known.pk


def test_one_bad_row_rolls_back_the_whole_file(shop):
    the_shop = shop[0]
    rows = [POS_HEADER, *POS_ROWS, ["2025-02-30", "R-9", "", "", "라떼", "1", "5000", "0", "5000"]]
    before = db_counts(the_shop)
    result = run(the_shop, "purchases", csv_bytes(rows))
    assert result.status == ImportStatus.FAILED
    assert codes(result) == ["date_impossible"]
    problem = result.report["problems"][0]
    assert problem["row"] == 6 and problem["column"] == "거래일시"
    assert problem["value"] == "2025-02-30"
    assert db_counts(the_shop) == before
    assert ImportRun.objects.for_shop(the_shop).get().status == "failed"


def test_dry_run_checks_everything_and_writes_nothing(shop):
    the_shop = shop[0]
    before = db_counts(the_shop)
    result = run(the_shop, "purchases", csv_bytes([POS_HEADER, *POS_ROWS]), dry_run=True)
    assert result.status == ImportStatus.CHECKED
    assert result.counts["purchases_created"] == 3  # what it would do
    assert db_counts(the_shop) == before


def test_status_column_marks_refunds(shop):
    the_shop = shop[0]
    rows = [
        ["주문번호", "주문일시", "연락처", "결제금액", "주문상태"],
        ["A1", "2025-08-01 12:00", "010-2345-6789", "12,000", "결제완료"],
        ["A2", "2025-08-02 12:00", "010-2345-6789", "8,000", "환불"],
    ]
    run(the_shop, "purchases", csv_bytes(rows))
    statuses = dict(Purchase.objects.for_shop(the_shop).values_list("external_id", "status"))
    assert statuses == {"A1": PurchaseStatus.PAID, "A2": PurchaseStatus.REFUNDED}
    stats = CustomerStats.objects.for_shop(the_shop).get()
    assert (stats.visits, stats.total_spend) == (1, 12_000)  # a refund is no visit


def test_xlsx_with_real_date_cells(shop):
    the_shop = shop[0]
    rows = [
        ["결제일시", "휴대폰", "총액"],
        [dt.datetime(2025, 8, 11, 10, 6), "010-2345-6789", 9000],
        [45881.5, "010-2345-6789", 4500],
    ]
    result = run(the_shop, "purchases", xlsx_bytes(rows), "pos.xlsx")
    assert result.status == ImportStatus.IMPORTED, result.report
    times = sorted(Purchase.objects.for_shop(the_shop).values_list("occurred_at", flat=True))
    seoul = dt.timezone(dt.timedelta(hours=9))
    assert times[0] == dt.datetime(2025, 8, 11, 10, 6, tzinfo=seoul)
    assert times[1] == dt.datetime(2025, 8, 12, 12, 0, tzinfo=seoul)  # serial 45881.5


def test_customer_import_records_consent_as_evidence(shop):
    the_shop = shop[0]
    rows = [
        ["이름", "휴대폰번호", "생년월일", "성별", "마케팅 수신동의", "카카오톡 수신동의"],
        ["김민지", "010-2345-6789", "1990.3.5", "여", "Y", "N"],
        ["박서준", "010-3333-4444", "", "남", "", ""],
        ["이도윤", "010-5555-6666", "03-15", "", "N", ""],
    ]
    result = run(the_shop, "customers", csv_bytes(rows), "고객명단.csv")
    assert result.status == ImportStatus.IMPORTED, result.report
    assert result.counts["customers_created"] == 3
    minji = Customer.objects.for_shop(the_shop).get(phone_bidx=_bidx(the_shop, "+821023456789"))
    assert minji.birthday == dt.date(1990, 3, 5) and minji.gender == "F"
    events = {
        (e.kind, e.granted) for e in ConsentEvent.objects.for_shop(the_shop).filter(customer=minji)
    }
    assert events == {
        (ConsentKind.PIPA_MARKETING, True),
        (ConsentKind.AD_SMS, True),
        (ConsentKind.AD_KAKAO, False),
    }
    event = ConsentEvent.objects.for_shop(the_shop).filter(customer=minji).first()
    assert event.source == "import" and event.evidence == "import:고객명단.csv"
    # A blank never grants: the second customer has no consent at all.
    seo = Customer.objects.for_shop(the_shop).get(phone_bidx=_bidx(the_shop, "+821033334444"))
    assert not ConsentEvent.objects.for_shop(the_shop).filter(customer=seo).exists()
    # A birthday without a year is a warning, the customer still comes in.
    warnings = [p["code"] for p in result.report["problems"] if p["severity"] == "warning"]
    assert "birthday_no_year" in warnings
    again = run(the_shop, "customers", csv_bytes(rows), "고객명단.csv")
    assert again.counts["customers_existing"] == 3
    assert again.counts.get("consents_recorded", 0) == 0


def test_import_never_undoes_a_later_opt_out(shop):
    the_shop = shop[0]
    customer = make_customer(the_shop, name="김민지", phone="010-2345-6789")
    consent_record(customer=customer, data=ConsentInput(kind="ad_sms", granted=False, source="080"))
    rows = [["이름", "연락처", "SMS 수신동의"], ["김민지", "010-2345-6789", "동의"]]
    result = run(the_shop, "customers", csv_bytes(rows))
    assert result.status == ImportStatus.IMPORTED
    latest = ConsentEvent.objects.for_shop(the_shop).filter(kind="ad_sms").latest("pk")
    assert latest.granted is False and latest.source == "080"
    assert "consent_optout_kept" in [p["code"] for p in result.report["problems"]]


def test_products_by_sku_then_by_name(shop):
    the_shop = shop[0]
    rows = [
        ["상품코드", "상품명", "분류", "판매가", "원가"],
        ["LAT", "카페라떼", "커피", "5,000원", "1,500"],
        ["AME", "아메리카노", "커피", "4500", "1200"],
    ]
    result = run(the_shop, "products", csv_bytes(rows))
    assert result.counts == {
        "rows": 2,
        "header_row": 1,
        "products_existing": 1,
        "products_created": 1,
    }
    no_sku = [["메뉴", "가격"], ["바닐라라떼", "5500"]]
    result = run(the_shop, "products", csv_bytes(no_sku))
    assert result.counts["products_created"] == 1
    assert run(the_shop, "products", csv_bytes(no_sku)).counts["products_existing"] == 1


def test_segments_refresh_is_enqueued_after_commit(
    shop, django_capture_on_commit_callbacks, monkeypatch
):
    the_shop = shop[0]
    calls = []
    monkeypatch.setattr("dangol.imports.services._refresh_segments", calls.append)
    with django_capture_on_commit_callbacks(execute=True):
        run(the_shop, "purchases", csv_bytes([POS_HEADER, *POS_ROWS]))
    assert calls == [the_shop.pk]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run(the_shop, "purchases", csv_bytes([POS_HEADER, *POS_ROWS]), dry_run=True)
    assert callbacks == []


def test_preset_maps_a_delivery_app_export(shop):
    the_shop = shop[0]
    rows = [
        ["주문번호", "주문일시", "메뉴", "주문금액", "할인금액", "배달팁", "주문상태", "안심번호"],
        [
            "B2508110001",
            "2025-08-11 12:01:33",
            "치킨",
            "18,000",
            "2,000",
            "3,000",
            "배달완료",
            "050-1234-5678",
        ],
    ]
    result = run(the_shop, "purchases", csv_bytes(rows), mapping={"preset": "baemin"})
    assert result.status == ImportStatus.IMPORTED, result.report
    purchase = Purchase.objects.for_shop(the_shop).get()
    assert purchase.external_id == "baemin-B2508110001"
    assert (purchase.total, purchase.discount, purchase.customer_id) == (18_000, 2_000, None)


def test_runs_are_shop_scoped(shop):
    other = make_shop("other")[0]
    run(shop[0], "products", csv_bytes([["상품명", "가격"], ["라떼", "5000"]]))
    assert ImportRun.objects.for_shop(other).count() == 0


def _bidx(shop, phone):
    from dangol.customers.services import phone_blind_index

    return phone_blind_index(shop_id=shop.pk, phone_e164=phone)
