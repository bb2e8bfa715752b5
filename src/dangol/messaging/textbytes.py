"""Counting SMS bytes the way Korean carriers do, and finding characters they cannot carry.

Korean SMS/LMS/MMS are counted in EUC-KR/CP949 bytes: a Hangul syllable is 2 bytes, ASCII is 1
(checklist rule 23; compliance-kr §3.3). ``len(text.encode("cp949"))`` gives that count for every
character CP949 knows. Two kinds of character need care:

- characters CP949 cannot encode at all (emoji, most accented Latin letters): providers reject
  the message (NHN -2023, Solapi 1029), so the gate blocks it;
- Hangul syllables CP949 has but strict KS X 1001 (EUC-KR 완성형) does not, such as 똠, 쌰, 뷁:
  they count 2 bytes, but some carriers and handsets garble them, so the gate flags them. Python's
  ``euc_kr`` codec encodes those as an 8-byte 조합 sequence instead of failing, which is how they
  are recognised here.

Pure Python; no Django.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

SMS_MAX_BYTES = 90
LMS_MAX_BYTES = 2000
SUBJECT_MAX_BYTES = 40


@lru_cache(maxsize=20_000)
def _char_bytes(ch: str) -> int:
    try:
        return len(ch.encode("cp949"))
    except UnicodeEncodeError:
        return 2


def cp949_bytes(text: str) -> int:
    """Bytes ``text`` takes in CP949; characters CP949 cannot encode count as 2 (see ``check``)."""
    try:
        return len(text.encode("cp949"))  # the usual case, in one call
    except UnicodeEncodeError:
        return sum(_char_bytes(ch) for ch in text)


def encodes_in_cp949(text: str) -> bool:
    try:
        text.encode("cp949")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=20_000)
def in_strict_ks_x_1001(ch: str) -> bool:
    """True for ASCII and for the characters of KS X 1001 (EUC-KR 완성형) proper."""
    try:
        return len(ch.encode("euc_kr")) <= 2
    except UnicodeEncodeError:
        return False


def is_emoji(ch: str) -> bool:
    """A pictograph or one of the invisible helpers that build emoji (ZWJ, variation selectors)."""
    cp = ord(ch)
    if 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x1F1E6 <= cp <= 0x1F1FF:
        return True
    if cp in (0x200D, 0x20E3) or 0xFE00 <= cp <= 0xFE0F or 0xE0020 <= cp <= 0xE007F:
        return True
    return unicodedata.category(ch) == "So" and cp > 0xFFFF


def describe(ch: str) -> str:
    """``U+1F600 😀``: the code point (always readable) and the character itself."""
    return f"U+{ord(ch):04X} {ch}"


@dataclass(frozen=True)
class CharProblems:
    emoji: tuple[str, ...]  # cannot be sent at all
    not_cp949: tuple[str, ...]  # cannot be sent at all (no CP949 code)
    outside_ks_x_1001: tuple[str, ...]  # can be sent, may be garbled


@lru_cache(maxsize=20_000)
def _char_class(ch: str) -> str:
    """ "" (fine), "outside" (sendable, may garble), "emoji" or "not_cp949"."""
    if encodes_in_cp949(ch):
        return "" if in_strict_ks_x_1001(ch) else "outside"
    return "emoji" if is_emoji(ch) else "not_cp949"


def check(text: str) -> CharProblems:
    """The distinct problem characters of ``text``, in order of first appearance."""
    if text.isascii():
        return CharProblems((), (), ())
    try:
        # Both codecs take 1-2 bytes for each character of KS X 1001 proper, and euc_kr takes
        # 8 for the CP949-only syllables, so equal lengths mean nothing to report (the usual
        # Korean text, checked in two calls instead of one look-up per character).
        if len(text.encode("euc_kr")) == len(text.encode("cp949")):
            return CharProblems((), (), ())
    except UnicodeEncodeError:
        pass  # a character CP949 lacks: find it below
    emoji: list[str] = []
    not_cp949: list[str] = []
    outside: list[str] = []
    found = {"emoji": emoji, "not_cp949": not_cp949, "outside": outside}
    for ch in dict.fromkeys(text):
        kind = _char_class(ch)
        if kind:
            found[kind].append(ch)
    return CharProblems(tuple(emoji), tuple(not_cp949), tuple(outside))
