"""Webhook signatures: ``Dangol-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "t.body")>``.

The timestamp is signed with the body, so a captured request cannot be replayed later: a
receiver compares the signature in constant time and refuses timestamps older than
``TOLERANCE`` (5 minutes). ``signature_verify`` is what a receiver written in Python does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

TOLERANCE = 300  # seconds
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature_compute(secret=secret, timestamp=t, body=body)}"


def signature_verify(
    *, secret: str, header: str, body: bytes, now: float | None = None, tolerance: int = TOLERANCE
) -> bool:
    """True when one ``v1`` signature matches and the timestamp is recent enough."""
    try:
        parts = [item.split("=", 1) for item in header.split(",")]
        timestamp = int(next(v for k, v in parts if k.strip() == "t"))
        signatures = [v for k, v in parts if k.strip() == "v1"]
    except (ValueError, StopIteration):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, s) for s in signatures)
