"""Korean phone numbers as the gate compares them (sender registration, the 080 opt-out).

Pure Python; no Django. Cached: a batch compares the same few shop numbers for every message.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def phone_digits(number: str) -> str:
    """Digits of a Korean number in domestic form: "+82 2-123-4567" → "021234567"."""
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+82"):
        digits = "0" + digits[2:].lstrip("0")
    return digits


def is_080(number: str) -> bool:
    digits = phone_digits(number)
    return digits.startswith("080") and len(digits) in (10, 11)
