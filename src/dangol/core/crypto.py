"""Field encryption (AES-256-GCM) and keyed-hash blind indexes for personal data.

Ciphertext format: ``v1:<key id>:<base64(nonce || ciphertext+tag)>``. The key id is the first
8 hex characters of SHA-256(key), so rotated keys still decrypt old rows. The column name is
bound as associated data: a value copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

PREFIX = "v1"


class DecryptionError(ValueError):
    pass


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


@lru_cache(maxsize=8)
def _keys(raw: tuple[str, ...]) -> tuple[tuple[str, AESGCM], dict[str, AESGCM]]:
    decoded = [base64.urlsafe_b64decode(k) for k in raw]
    ciphers = {_key_id(k): AESGCM(k) for k in decoded}
    primary = _key_id(decoded[0])
    return (primary, ciphers[primary]), ciphers


def encrypt(plaintext: str, *, context: str) -> str:
    (key_id, cipher), _ = _keys(tuple(settings.DANGOL_FIELD_KEYS))
    nonce = os.urandom(12)
    sealed = cipher.encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, context: str) -> str:
    try:
        prefix, key_id, payload = token.split(":", 2)
    except ValueError as exc:
        raise DecryptionError("not an encrypted value") from exc
    if prefix != PREFIX:
        raise DecryptionError(f"unknown ciphertext version {prefix!r}")
    _, ciphers = _keys(tuple(settings.DANGOL_FIELD_KEYS))
    cipher = ciphers.get(key_id)
    if cipher is None:
        raise DecryptionError(f"no key with id {key_id} is configured")
    blob = base64.b64decode(payload)
    try:
        return cipher.decrypt(blob[:12], blob[12:], context.encode()).decode()
    except InvalidTag as exc:
        raise DecryptionError("ciphertext does not authenticate") from exc


@lru_cache(maxsize=8)
def _blind_keys(raw: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(base64.urlsafe_b64decode(k) for k in raw))


def _hmac(key: bytes, value: str, *, purpose: str, shop_id: int, length: int) -> str:
    message = f"{purpose}\x1f{shop_id}\x1f{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:length]


def blind_index(value: str, *, purpose: str, shop_id: int, length: int = 64) -> str:
    """HMAC-SHA256 of a normalised value, keyed and separated by purpose and shop.

    Including the shop means the same phone in two shops cannot be linked from the database.
    Always the primary (first) key: this is the value to store.
    """
    key = _blind_keys(tuple(settings.DANGOL_BLIND_INDEX_KEYS))[0]
    return _hmac(key, value, purpose=purpose, shop_id=shop_id, length=length)


def blind_indexes(value: str, *, purpose: str, shop_id: int, length: int = 64) -> list[str]:
    """The value's index under every configured key, primary first: the values to look for.

    While the indexes are being recomputed under a new key, a row may still hold the old
    key's index; querying all of them means nobody becomes unfindable during a rotation.
    """
    keys = _blind_keys(tuple(settings.DANGOL_BLIND_INDEX_KEYS))
    return [_hmac(k, value, purpose=purpose, shop_id=shop_id, length=length) for k in keys]


def field_key_ids() -> list[str]:
    """Ids of the configured field keys, primary (the one that encrypts) first."""
    return [_key_id(base64.urlsafe_b64decode(k)) for k in settings.DANGOL_FIELD_KEYS]


def ciphertext_key_id(token: str) -> str | None:
    """The id of the key that sealed a stored value (None for empty or foreign values)."""
    parts = token.split(":", 2) if token else []
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else None
