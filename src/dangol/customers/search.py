"""Searchable keyed-hash tokens for encrypted names and phones.

A name cannot be searched with SQL once it is encrypted, so each customer carries short HMACs
of the name's characters and character pairs and of the phone's last four digits. A query is
turned into the same tokens; all must be present. Tokens are 40-bit truncated hashes keyed per
shop, so they reveal nothing without the key.
"""

from __future__ import annotations

from dangol.core.crypto import blind_index
from dangol.core.phone import phone_last4

TOKEN_LENGTH = 10


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def _token(text: str, *, shop_id: int) -> str:
    return blind_index(text, purpose="search", shop_id=shop_id, length=TOKEN_LENGTH)


def name_grams(name: str) -> set[str]:
    norm = _norm(name)
    grams = set(norm)
    grams.update(norm[i : i + 2] for i in range(len(norm) - 1))
    return {f"n:{g}" for g in grams}


def search_tokens_for(*, shop_id: int, name: str, phone_e164: str) -> str:
    grams = name_grams(name)
    if phone_e164:
        grams.add(f"p:{phone_last4(phone_e164)}")
    tokens = sorted(_token(g, shop_id=shop_id) for g in grams)
    return " " + " ".join(tokens) + " " if tokens else ""


def query_tokens(*, shop_id: int, query: str) -> list[str]:
    """Tokens that must all appear for a customer to match the query."""
    norm = _norm(query)
    if not norm:
        return []
    if norm.isdigit() and len(norm) == 4:
        return [_token(f"p:{norm}", shop_id=shop_id)]
    if len(norm) == 1:
        grams = {f"n:{norm}"}
    else:
        grams = {f"n:{norm[i : i + 2]}" for i in range(len(norm) - 1)}
    return [_token(g, shop_id=shop_id) for g in sorted(grams)]
