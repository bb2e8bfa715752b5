"""Personal data is ciphertext at rest; exact look-ups still work through the blind index."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from dangol.core.crypto import DecryptionError, decrypt, encrypt
from dangol.customers.models import Customer
from dangol.customers.selectors import customer_find_by_phone, customer_search
from tests.app.factories import make_customer, make_shop

PLAINTEXTS = ["김민지", "01011112222", "1111-2222", "minji@example.com", "1990-05-17"]


@pytest.fixture
def shop_with_people(db):
    shop, *_ = make_shop("cipher")
    customer = make_customer(
        shop,
        name="김민지",
        phone="010-1111-2222",
        email="minji@example.com",
        birthday=dt.date(1990, 5, 17),
    )
    return shop, customer


def test_raw_columns_hold_ciphertext(shop_with_people):
    _, customer = shop_with_people
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, phone, email, birthday FROM customers_customer WHERE id = %s",
            [customer.pk],
        )
        row = cursor.fetchone()
    for value in row:
        assert value.startswith("v1:")
        for plain in PLAINTEXTS:
            assert plain not in value
    again = Customer.unscoped.get(pk=customer.pk)
    assert (again.name, again.phone, again.email) == (
        "김민지",
        "+821011112222",
        "minji@example.com",
    )
    assert again.birthday.isoformat() == "1990-05-17"


def test_lookup_by_phone_and_search(shop_with_people):
    shop, customer = shop_with_people
    assert customer_find_by_phone(shop=shop, phone="010 1111 2222") == customer
    assert customer_find_by_phone(shop=shop, phone="+82-10-1111-2222") == customer
    assert customer_find_by_phone(shop=shop, phone="010-1111-2223") is None
    assert list(customer_search(shop=shop, query="2222")) == [customer]
    assert list(customer_search(shop=shop, query="민지")) == [customer]
    assert list(customer_search(shop=shop, query="김")) == [customer]
    assert list(customer_search(shop=shop, query="이서")) == []


def test_ciphertext_is_bound_to_its_column():
    token = encrypt("김민지", context="customers.customer.name")
    assert decrypt(token, context="customers.customer.name") == "김민지"
    with pytest.raises(DecryptionError):
        decrypt(token, context="customers.customer.email")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        decrypt(tampered, context="customers.customer.name")


def test_same_phone_in_two_shops_is_not_linkable(db):
    a, *_ = make_shop("link-a")
    b, *_ = make_shop("link-b")
    ca = make_customer(a, phone="010-5555-6666")
    cb = make_customer(b, phone="010-5555-6666")
    assert ca.phone_bidx != cb.phone_bidx


def _dump_database() -> bytes:
    vendor = connection.vendor
    settings = connection.settings_dict
    if vendor == "sqlite":
        connection.close()
        data = b""
        for suffix in ("", "-wal"):
            path = Path(settings["NAME"] + suffix)
            if path.exists():
                data += path.read_bytes()
        return data
    pg_dump = shutil.which("pg_dump") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))), None
    )
    assert pg_dump, "pg_dump is needed for the PostgreSQL leg"
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    cmd = [
        str(pg_dump),
        "-h",
        settings["HOST"],
        "-p",
        str(settings["PORT"]),
        "-U",
        settings["USER"],
        "--data-only",
        settings["NAME"],
    ]
    return subprocess.run(cmd, check=True, capture_output=True, env=env).stdout


@pytest.mark.django_db(transaction=True)
def test_database_file_or_dump_has_no_plaintext():
    """Seed a small demo shop, then read the raw database (file or pg_dump) byte by byte."""
    from django.utils import timezone

    from dangol.demo.services import demo_shop_seed

    shop = demo_shop_seed(slug="demo", customers=60, months=3, seed=7, end=timezone.localdate())
    customers = list(Customer.unscoped.filter(shop=shop))
    assert len(customers) == 60
    raw = _dump_database()
    assert len(raw) > 10_000
    leaked = []
    for c in customers:
        digits = c.phone.replace("+82", "0")
        for needle in {c.name, digits, digits[3:], c.email}:
            if needle and needle.encode() in raw:
                leaked.append(needle)
    assert leaked == []
    sample = customers[5]
    assert customer_find_by_phone(shop=shop, phone=sample.phone.replace("+82", "0")) == sample
