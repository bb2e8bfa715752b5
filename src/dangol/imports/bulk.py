"""Plain multi-row INSERTs for the two big tables of a purchase import.

Building a model instance per row and letting the ORM render it costs more than the database
does (a million purchases and lines spent most of their time in instance set-up and SQL
compilation), so rows go in as parameter tuples through ``executemany`` on the same
connection and transaction. Values are adapted by the backend's own operations, so SQLite
and PostgreSQL both get what the ORM would have sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from django.conf import settings
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


def datetime_adapter() -> Callable[[dt.datetime], object]:
    """The backend's datetime adaptation, per value. On SQLite it is what
    ``adapt_datetimefield_value`` does (the UTC wall time as text) without its per-call checks,
    which cost more than the rest of a purchase row's INSERT parameters."""
    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return connection.ops.adapt_datetimefield_value
    zone = connection.timezone

    def adapt(value: dt.datetime) -> str:
        if value.utcoffset() is None:
            return str(value)
        return str(value.astimezone(zone).replace(tzinfo=None))

    return adapt


def _purchase_sql(select_where: str) -> str:
    meta = Purchase._meta
    q = connection.ops.quote_name
    names = {f: q(meta.get_field(f).column) for f in ("shop", "source", "external_id", "id")}
    # Table and column names come from the model, never from the file.
    return (
        f"SELECT {names['external_id']}, {names['id']} FROM {q(meta.db_table)} "  # noqa: S608
        f"WHERE {names['shop']} = %s AND {names['source']} = %s AND " + select_where.format(**names)
    )


def purchase_ids(*, shop_id: int, source: str, external_ids: list[str]) -> dict[str, int]:
    """External id → purchase id for those of ``external_ids`` the shop has from ``source``.

    Plain SQL: compiling an ORM ``__in`` of thousands of values cost more than the look-up."""
    limit = max((connection.features.max_query_params or len(external_ids) + 2) - 2, 1)
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(external_ids), limit):
            part = external_ids[start : start + limit]
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(
                _purchase_sql("{external_id} IN (" + marks + ")"), [shop_id, source, *part]
            )
            found.update(cursor.fetchall())
    return found


def purchase_ids_after(*, shop_id: int, source: str, after: int) -> dict[str, int]:
    """External id → purchase id for the shop's purchases from ``source`` above id ``after``."""
    with connection.cursor() as cursor:
        cursor.execute(_purchase_sql("{id} > %s"), [shop_id, source, after])
        return dict(cursor.fetchall())


def purchase_last_id() -> int:
    meta = Purchase._meta
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Table and column names come from the model.
        cursor.execute(f"SELECT MAX({q(meta.pk.column)}) FROM {q(meta.db_table)}")  # noqa: S608
        return cursor.fetchone()[0] or 0


def purchases_exist(*, shop_id: int, source: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_purchase_sql("1 = 1") + " LIMIT 1", [shop_id, source])
        return cursor.fetchone() is not None


#: The most page cache an import asks SQLite for (KiB); the default is 2 MB.
MAX_CACHE_KIB = 256 * 1024


@contextmanager
def roomy_cache(*, file_bytes: int) -> Iterator[None]:
    """A bigger SQLite page cache while one file is imported, back to the previous size after.

    A big file's purchases land in several indexes (shop and time, customer and time, ...) at
    scattered places; once those outgrow the default 2 MB cache every row re-reads pages and
    the import slows down as the tables grow. Memory only: durability is untouched."""
    if connection.vendor != "sqlite":
        yield
        return
    wanted = min(MAX_CACHE_KIB, file_bytes * 4 // 1024)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        before_kib = -before if before < 0 else before * cursor.fetchone()[0] // 1024
        if wanted > before_kib:
            cursor.execute(f"PRAGMA cache_size = -{int(wanted)}")
    try:
        yield
    finally:
        if wanted > before_kib:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(before)}")


def purchases_insert(*, rows: list[tuple]) -> None:
    """Rows in the order of PURCHASE_FIELDS, datetimes adapted by :func:`datetime_adapter`."""
    _insert(Purchase, PURCHASE_FIELDS, rows)


def lines_insert(*, rows: list[tuple]) -> None:
    _insert(PurchaseLine, LINE_FIELDS, rows)
