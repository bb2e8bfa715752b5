"""Coupon codes: short, typable, unguessable, with a check character.

Ten characters from 31 that cannot be mistaken for one another (no 0/O, 1/I/L): nine random ones
from ``secrets`` (about 44.6 bits) and a weighted mod-31 check character, which catches every
single mistyped character and every swap of two characters. Shown as ``XXXXX-XXXXX``.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
N = len(ALPHABET)
BODY = 9
LENGTH = BODY + 1
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}


def _check_char(body: str) -> str:
    """The character c that makes sum(position * value) over all ten characters, positions
    1 to 10, a multiple of 31 (ISBN-10 style; 31 is prime and larger than the length, so
    one wrong character or any swap of two changes the sum and is caught)."""
    total = sum((i + 1) * _INDEX[ch] for i, ch in enumerate(body))
    return ALPHABET[(-total * pow(LENGTH, -1, N)) % N]


def code_new() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY))
    return body + _check_char(body)


def code_normalize(raw: object) -> str | None:
    """The canonical code, or None when it cannot be one (wrong length, character or check)."""
    if not isinstance(raw, str):
        return None
    code = "".join(ch for ch in raw.upper() if ch not in " -\t")
    if len(code) != LENGTH or any(ch not in _INDEX for ch in code):
        return None
    return code if _check_char(code[:BODY]) == code[BODY] else None


def code_format(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"
