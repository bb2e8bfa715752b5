"""Helpers of the import tests: files built in memory, and the database's row counts."""

from __future__ import annotations

import csv
import io

from dangol.customers.models import ConsentEvent, Customer
from dangol.imports.services import import_run
from dangol.sales.models import CustomerStats, Product, Purchase, PurchaseLine


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def db_counts(shop) -> dict[str, int]:
    """Every table an import may write, for "changes nothing" checks."""
    return {
        "customers": Customer.objects.for_shop(shop).count(),
        "consents": ConsentEvent.objects.for_shop(shop).count(),
        "purchases": Purchase.objects.for_shop(shop).count(),
        "lines": PurchaseLine.objects.for_shop(shop).count(),
        "products": Product.objects.for_shop(shop).count(),
        "stats": CustomerStats.objects.for_shop(shop).count(),
    }


def run(shop, kind: str, data: bytes, name: str = "file.csv", **kwargs):
    return import_run(shop=shop, kind=kind, data=data, file_name=name, **kwargs)


def codes(run_obj) -> list[str]:
    return [p["code"] for p in run_obj.report["problems"] if p["severity"] == "error"]


POS_HEADER = [
    "거래일시",
    "영수증번호",
    "고객명",
    "휴대폰",
    "메뉴",
    "수량",
    "단가",
    "할인",
    "결제금액",
]
POS_ROWS = [
    [
        "2025-08-11 10:06",
        "R-1001",
        "김민지",
        "010-2345-6789",
        "아메리카노",
        "2",
        "4,500",
        "0",
        "9,000원",
    ],
    [
        "2025-08-11 10:06",
        "R-1001",
        "김민지",
        "010-2345-6789",
        "크루아상",
        "1",
        "3,800",
        "300",
        "3,500원",
    ],
    ["2025.8.12 14:30", "R-1002", "", "", "카페라떼", "1", "5,000", "0", "5,000"],
    ["2025년 8월 13일", "R-1003", "박서준", "01033334444", "아메리카노", "1", "4,500", "0", "4500"],
]
