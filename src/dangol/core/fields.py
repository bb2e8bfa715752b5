"""Model fields whose values are encrypted at rest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from dangol.core.crypto import decrypt, encrypt


class EncryptedTextField(models.TextField):
    """Stores AES-GCM ciphertext; Python code only ever sees plaintext.

    Only `isnull`/`exact ''` style checks make sense on ciphertext, so look-ups go through a
    separate blind-index column instead.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def _context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def to_python_value(self, value: str) -> Any:
        return value

    def from_python_value(self, value: Any) -> str:
        return str(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return self.empty_value()
        return self.to_python_value(decrypt(value, context=self._context()))

    def empty_value(self) -> Any:
        return ""

    def get_prep_value(self, value: Any) -> Any:
        if value in (None, ""):
            return ""
        return encrypt(self.from_python_value(value), context=self._context())


class EncryptedDateField(EncryptedTextField):
    def to_python_value(self, value: str) -> dt.date:
        return dt.date.fromisoformat(value)

    def from_python_value(self, value: Any) -> str:
        if isinstance(value, dt.date):
            return value.isoformat()
        return dt.date.fromisoformat(str(value)).isoformat()

    def empty_value(self) -> Any:
        return None

    def to_python(self, value: Any) -> Any:
        if value in (None, ""):
            return None
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value))
