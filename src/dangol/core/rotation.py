"""Re-encrypting personal fields under the primary field key, a batch at a time.

Every model field that is an ``EncryptedTextField`` is found through the app registry, so a
new encrypted column is rotated without this module knowing its app (core sits below them).
Each batch is one short transaction that locks only its own rows: the shop keeps working, and
old keys keep decrypting the rows not reached yet. Rows already under the primary key are
never selected, so the rotation can be stopped and started again at any point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models import Count, Q
from django.db.models.functions import Substr

from dangol.core.crypto import field_key_ids
from dangol.core.fields import EncryptedTextField

Progress = Callable[[str, int, int], None]

# "v1:" is three characters; the key id is the next eight.
_KEY_ID_START, _KEY_ID_LENGTH = 4, 8


class RotationError(Exception):
    """The rotation cannot run as configured; carries a Korean and an English sentence."""

    def __init__(self, ko: str, en: str) -> None:
        super().__init__(f"{ko}\n{en}")
        self.ko = ko
        self.en = en


@dataclass(frozen=True)
class EncryptedTable:
    model: type[models.Model]
    fields: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


@dataclass(frozen=True)
class KeyCount:
    table: str
    field: str
    key_id: str
    rows: int


def encrypted_tables() -> list[EncryptedTable]:
    tables = []
    for model in apps.get_models():
        names = tuple(
            f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        )
        if names:
            tables.append(EncryptedTable(model=model, fields=names))
    return sorted(tables, key=lambda t: t.label)


def _key_id_of(field: str) -> Substr:
    # A plain CharField output: the encrypted field's converter would try to decrypt the id.
    return Substr(field, _KEY_ID_START, _KEY_ID_LENGTH, output_field=models.CharField())


def field_key_counts() -> list[KeyCount]:
    """How many stored values each key id sealed, per encrypted column (empty values skipped)."""
    counts = []
    for table in encrypted_tables():
        for field in table.fields:
            rows = (
                table.model._base_manager.annotate(kid=_key_id_of(field))
                .filter(kid__gt="")
                .values("kid")
                .annotate(n=Count("pk"))
                .order_by("kid")
            )
            counts += [KeyCount(table.label, field, r["kid"], r["n"]) for r in rows]
    return counts


def _stale(table: EncryptedTable, primary: str) -> models.QuerySet:
    ids = {f"kid_{f}": _key_id_of(f) for f in table.fields}
    condition = Q()
    for name in ids:
        condition |= Q(**{f"{name}__gt": ""}) & ~Q(**{name: primary})
    return table.model._base_manager.annotate(**ids).filter(condition)


def field_keys_pending() -> int:
    primary = field_key_ids()[0]
    return sum(_stale(t, primary).count() for t in encrypted_tables())


def _check_all_keys_present() -> None:
    configured = set(field_key_ids())
    missing = sorted({c.key_id for c in field_key_counts()} - configured)
    if missing:
        ids = ", ".join(missing)
        raise RotationError(
            f"키 ID {ids}로 암호화된 값이 있지만 그 키가 DANGOL_FIELD_KEYS에 없습니다. "
            "옛 키를 목록 뒤에 다시 넣으세요.",
            f"Some values are sealed with key id(s) {ids}, which DANGOL_FIELD_KEYS does not "
            "hold; put the old key back at the end of the list.",
        )


def field_keys_rotate(*, batch_size: int = 1000, progress: Progress | None = None) -> int:
    """Re-encrypt every value not under the primary key; returns the number of rows rewritten."""
    _check_all_keys_present()
    primary = field_key_ids()[0]
    rewritten = 0
    for table in encrypted_tables():
        total = _stale(table, primary).count()
        done, last = 0, 0
        if progress:
            progress(table.label, 0, total)
        while True:
            with transaction.atomic():
                pks = list(
                    _stale(table, primary)
                    .filter(pk__gt=last)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not pks:
                    break
                # Locked, then read: a concurrent edit is either before (and re-encrypted
                # here) or after (and written under the primary key by its own save).
                rows = list(
                    table.model._base_manager.select_for_update()
                    .filter(pk__in=pks)
                    .only("pk", *table.fields)
                )
                table.model._base_manager.bulk_update(rows, table.fields)
            done, last = done + len(pks), pks[-1]
            rewritten += len(pks)
            if progress:
                progress(table.label, min(done, total), total)
    return rewritten
