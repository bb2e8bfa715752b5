"""Plain multi-row INSERTs for the two big tables of a purchase import.

Building a model instance per row and letting the ORM render it costs more than the database
does (a million purchases and lines spent most of their time in instance set-up and SQL
compilation), so rows go in as parameter tuples through ``executemany`` on the same
connection and transaction. Values are adapted by the backend's own operations, so SQLite
and PostgreSQL both get what the ORM would have sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection

from dangol.sales.models import Purchase, PurchaseLine

PURCHASE_FIELDS = (
    "shop",
    "store",
    "customer",
    "source",
    "external_id",
    "occurred_at",
    "total",
    "discount",
    "status",
    "created_at",
)
LINE_FIELDS = ("shop", "purchase", "product", "name", "quantity", "unit_price", "amount")


def _insert(model, fields: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    meta = model._meta
    columns = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Table and column names come from the model, never from the file.
    sql = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def moment(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def purchases_insert(*, rows: list[tuple]) -> None:
    """Rows in the order of PURCHASE_FIELDS, datetimes already adapted with :func:`moment`."""
    _insert(Purchase, PURCHASE_FIELDS, rows)


def lines_insert(*, rows: list[tuple]) -> None:
    _insert(PurchaseLine, LINE_FIELDS, rows)
