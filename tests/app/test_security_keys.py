"""Key rotation: every value survives, nothing is ever stored or findable only in clear."""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from dangol.cli.main import main
from dangol.core.config import new_key
from dangol.core.crypto import field_key_ids
from dangol.core.rotation import field_key_counts, field_keys_pending, field_keys_rotate
from dangol.customers.models import Customer, CustomerIdentity
from dangol.customers.rotation import customer_index_status, customer_indexes_rotate
from dangol.customers.selectors import customer_find_by_phone, customer_search
from dangol.customers.services import CustomerError, CustomerInput, customer_create
from dangol.demo.services import demo_shop_seed
from dangol.messaging.dispatch import _suppressed
from dangol.messaging.models import OutboxMessage, Suppression
from dangol.messaging.rotation import suppression_index_status, suppression_indexes_rotate
from dangol.messaging.services import suppression_add

pytestmark = pytest.mark.django_db(transaction=True)


def _people() -> dict[int, tuple]:
    return {
        c.pk: (c.name, c.phone, c.email, c.birthday)
        for c in Customer.unscoped.order_by("pk").only("name", "phone", "email", "birthday")
    }


def _needles(people: dict[int, tuple]) -> set[str]:
    """Plaintext spellings that must never appear in storage."""
    out: set[str] = set()
    for name, phone, email, birthday in people.values():
        out |= {name, phone, "0" + phone[3:]}
        if email:
            out.add(email)
        if birthday:
            out.add(birthday.isoformat())
    return {n for n in out if n}


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() "
                "AND data_type IN ('text', 'character varying', 'jsonb')"
            )
            return list(cursor.fetchall())
        columns = []
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'PRAGMA table_info("{table}")')
            columns += [
                (table, row[1])
                for row in cursor.fetchall()
                if row[2].upper() in {"TEXT", ""} or "CHAR" in row[2].upper()
            ]
        return columns


def assert_no_plaintext(needles: set[str]) -> None:
    quote = connection.ops.quote_name
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            cursor.execute(f"SELECT CAST({quote(column)} AS TEXT) FROM {quote(table)}")  # noqa: S608
            for (value,) in cursor.fetchall():
                if value and any(n in value for n in needles):
                    found.append((table, column))
                    break
    assert not found, found
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    else:
        raw = _pg_dump()
    assert raw, "the database holds nothing"
    leaks = [n for n in needles if n.encode() in raw]
    assert not leaks, leaks[:5]


def _pg_dump() -> bytes:
    """The whole test database as PostgreSQL's own dump tool writes it (data and schema)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    tool = shutil.which("pg_dump") or (found[-1] if found else None)
    assert tool, "pg_dump is not installed"
    db = connection.settings_dict
    command = [tool, "--no-owner", "-h", db["HOST"] or "127.0.0.1", "-d", db["NAME"]]
    if db.get("PORT"):
        command += ["-p", str(db["PORT"])]
    if db.get("USER"):
        command += ["-U", db["USER"]]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    dump = subprocess.run(command, capture_output=True, env=env, check=True, timeout=120)
    assert b"COPY public.customers_customer" in dump.stdout
    return dump.stdout


@pytest.fixture
def seeded():
    shop = demo_shop_seed(slug="demo", customers=60, months=3, seed=3, end=dt.date(2026, 9, 30))
    first = Customer.unscoped.filter(shop=shop).order_by("pk").first()
    suppression_add(shop=shop, address=first.phone, channel="sms", source="080")
    suppression_add(shop=shop, address="010-9999-0000", channel="sms", source="080")
    now = timezone.now()
    for n, customer in enumerate(Customer.unscoped.filter(shop=shop).order_by("pk")[:5]):
        OutboxMessage.unscoped.create(
            shop=shop,
            idempotency_key=f"rotation-{n}",
            source="test",
            customer=customer,
            channel="sms",
            kind="info",
            to_address=customer.phone,
            body=f"{customer.name}님, 안녕하세요",
            scheduled_for=now,
        )
    return shop


def test_field_key_rotation_keeps_every_value(seeded, settings):
    before = _people()
    assert len(before) == 60
    needles = _needles(before)
    assert_no_plaintext(needles)
    old_id = field_key_ids()[0]

    settings.DANGOL_FIELD_KEYS = [new_key(), *settings.DANGOL_FIELD_KEYS]
    new_id = field_key_ids()[0]
    assert field_keys_pending() > 60

    calls = []

    def interrupt(table: str, done: int, total: int) -> None:
        calls.append((table, done, total))
        if done and len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        field_keys_rotate(batch_size=7, progress=interrupt)
    half = {c.key_id for c in field_key_counts()}
    assert half == {old_id, new_id}  # both keys in use: the shop still reads every row
    assert _people() == before

    field_keys_rotate(batch_size=7)
    assert {c.key_id for c in field_key_counts()} == {new_id}
    assert field_keys_pending() == 0
    assert field_keys_rotate(batch_size=7) == 0  # idempotent: nothing left to do
    assert _people() == before
    bodies = set(OutboxMessage.unscoped.values_list("body", flat=True))
    assert all(body.endswith("님, 안녕하세요") for body in bodies)
    assert_no_plaintext(needles)

    settings.DANGOL_FIELD_KEYS = settings.DANGOL_FIELD_KEYS[:1]  # the old key is gone
    assert _people() == before


def test_rotation_refuses_when_a_key_is_missing(seeded, settings):
    settings.DANGOL_FIELD_KEYS = [new_key()]
    from dangol.core.rotation import RotationError

    with pytest.raises(RotationError):
        field_keys_rotate()


def _findable(shop, people: dict[int, tuple]) -> None:
    for pk, (name, phone, _, _) in people.items():
        assert customer_find_by_phone(shop=shop, phone=phone).pk == pk
        assert pk in set(customer_search(shop=shop, query=phone).values_list("pk", flat=True))
        assert pk in set(customer_search(shop=shop, query=name).values_list("pk", flat=True))
        assert pk in set(customer_search(shop=shop, query=phone[-4:]).values_list("pk", flat=True))


def test_blind_index_rotation_never_loses_a_customer(seeded, settings):
    shop = seeded
    people = _people()
    old = settings.DANGOL_BLIND_INDEX_KEYS[0]
    settings.DANGOL_BLIND_INDEX_KEYS = [new_key(), old]
    assert customer_index_status().stale == 60
    _findable(shop, people)  # nothing re-indexed yet: found through the old key

    first_phone = people[min(people)][1]
    with pytest.raises(CustomerError):
        customer_create(shop=shop, data=CustomerInput(name="중복", phone=first_phone))

    seen = []

    def check_midway(table: str, done: int, total: int) -> None:
        if 0 < done < total:
            status = customer_index_status()
            seen.append((status.current, status.stale))
            _findable(shop, people)

    customer_indexes_rotate(batch_size=25, progress=check_midway)
    assert (25, 35) in seen  # lookups were checked with both keys in use
    assert customer_index_status().stale == 0
    assert customer_indexes_rotate(batch_size=25) == 0

    messages = list(OutboxMessage.unscoped.order_by("pk"))
    assert _suppressed(messages) == {messages[0].pk}  # the old-key opt-out still holds
    assert suppression_index_status().stale == 1
    assert suppression_indexes_rotate(batch_size=25) == 1
    status = suppression_index_status()
    assert (status.current, status.stale, status.unknown) == (1, 0, 1)

    settings.DANGOL_BLIND_INDEX_KEYS = settings.DANGOL_BLIND_INDEX_KEYS[:1]
    _findable(shop, people)
    assert _suppressed(messages) == {messages[0].pk}
    for customer in Customer.unscoped.filter(shop=shop):
        kinds = dict(
            CustomerIdentity.unscoped.filter(customer=customer).values_list("kind", "value_bidx")
        )
        assert kinds["phone"] == customer.phone_bidx
        if customer.email:
            assert kinds["email"] == customer.email_bidx
    assert_no_plaintext(_needles(people))
    assert Suppression.unscoped.count() == 2


def test_keys_cli_status_and_rotate(seeded, settings, capsys):
    settings.DANGOL_FIELD_KEYS = [new_key(), *settings.DANGOL_FIELD_KEYS]
    settings.DANGOL_BLIND_INDEX_KEYS = [new_key(), *settings.DANGOL_BLIND_INDEX_KEYS]
    new_id = field_key_ids()[0]
    assert main(["keys", "status"]) == 0, capsys.readouterr().err
    out = " ".join(capsys.readouterr().out.split())
    assert "old key" in out and "stale 60" in out
    assert main(["keys", "rotate", "--batch-size", "20"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "customers re-indexed: 60" in out
    assert main(["keys", "status"]) == 0, capsys.readouterr().err
    out = " ".join(capsys.readouterr().out.split())
    assert new_id in out and "/ old key" not in out and "stale 0" in out
    assert "keep the old key listed" in out  # one opt-out's address is unknown
