"""Searchable keyed-hash tokens for encrypted names and phones.

A name cannot be searched with SQL once it is encrypted, so each customer carries short HMACs
of the name's characters and character pairs and of the phone's last four digits. A query is
turned into the same tokens; all must be present. Tokens are 40-bit truncated hashes keyed per
shop, so they reveal nothing without the key.
"""

from __future__ import annotations

from dangol.core.crypto import blind_index, blind_indexes
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


def _query_grams(query: str) -> list[str]:
    norm = _norm(query)
    if not norm:
        return []
    if norm.isdigit() and len(norm) == 4:
        return [f"p:{norm}"]
    if len(norm) == 1:
        return [f"n:{norm}"]
    return sorted({f"n:{norm[i : i + 2]}" for i in range(len(norm) - 1)})


def query_tokens(*, shop_id: int, query: str) -> list[str]:
    """Tokens that must all appear for a customer to match the query."""
    return [_token(g, shop_id=shop_id) for g in _query_grams(query)]


def query_token_sets(*, shop_id: int, query: str) -> list[list[str]]:
    """The query's tokens under each blind-index key, primary first.

    A customer's tokens are all under one key, so a match is all tokens of one set; while a
    key is being rotated, customers not yet re-indexed match the old key's set.
    """
    per_gram = [
        blind_indexes(g, purpose="search", shop_id=shop_id, length=TOKEN_LENGTH)
        for g in _query_grams(query)
    ]
    return [list(tokens) for tokens in zip(*per_gram, strict=True)]
