"""Turning failures the user can fix into one clear sentence (Korean and English)."""

from __future__ import annotations


class UserError(Exception):
    def __init__(self, ko: str, en: str) -> None:
        super().__init__(f"{ko}\n{en}")
        self.ko = ko
        self.en = en
