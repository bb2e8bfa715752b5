"""Small helpers shared by the HTTP providers: one JSON request with honest failure kinds,
phone-number shapes, the ad-text check, and key shortening.

Nothing here raises on a bad answer: every transport problem becomes an ``HttpReply`` whose
``sent`` flag says whether the request may have reached the provider. That flag is what keeps
sending exactly-once: a request that never left is safe to retry, one that left and got no
trustworthy answer is UNKNOWN and must be reconciled first.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import phonenumbers

from .base import Outcome, SendResult

KST = timezone(timedelta(hours=9), "KST")  # Asia/Seoul has no DST
MAX_RESPONSE_BYTES = 5_000_000
NOT_JSON = object()


@dataclass(frozen=True)
class HttpReply:
    status: int = 0
    body: bytes = b""
    sent: bool = False  # the request bytes may have reached the server
    error: str = ""  # a transport problem, if there was one

    def json(self) -> Any:
        """The parsed body, or ``NOT_JSON``."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return NOT_JSON


def http_request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    payload: Any = None,
    timeout: float = 10.0,
) -> HttpReply:
    """One HTTP(S) request with a timeout on every socket operation. Never raises."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return HttpReply(error=f"not an http(s) URL: {url!r}")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    body = None
    all_headers = {"Accept": "application/json"}
    if payload is not None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        all_headers["Content-Type"] = "application/json;charset=UTF-8"
    all_headers.update(headers or {})
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    except (OSError, ValueError) as exc:
        return HttpReply(error=f"bad address: {exc}")
    try:
        try:
            connection.connect()
        except OSError as exc:
            # Nothing was sent: the provider cannot have acted on this request.
            return HttpReply(error=f"could not connect: {exc}")
        try:
            connection.request(method, target, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read(MAX_RESPONSE_BYTES)
            if response.length:  # fewer bytes than Content-Length promised
                return HttpReply(
                    status=response.status, body=data, sent=True, error="truncated answer"
                )
            return HttpReply(status=response.status, body=data, sent=True)
        except (OSError, http.client.HTTPException) as exc:
            kind = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            return HttpReply(sent=True, error=f"no complete answer ({kind}): {exc}")
    finally:
        connection.close()


def transport_outcome(reply: HttpReply) -> SendResult | None:
    """The outcome decided by the transport alone, or None when the body must be read."""
    if reply.error and not reply.sent:
        return SendResult(Outcome.FAILED, code="connect_error", detail=reply.error, retryable=True)
    if reply.error:
        return SendResult(Outcome.UNKNOWN, code="no_answer", detail=reply.error)
    if reply.status >= 500:
        return SendResult(
            Outcome.UNKNOWN,
            code=f"http_{reply.status}",
            detail="provider error; the message may or may not have been taken",
            raw={"body": reply.body[:2000].decode("utf-8", "replace")},
        )
    if reply.status == 429:
        return SendResult(
            Outcome.FAILED, code="http_429", detail="rate limited by the provider", retryable=True
        )
    return None


def garbage(reply: HttpReply, why: str = "unreadable answer") -> SendResult:
    """A 2xx/4xx body we cannot trust: the provider may have acted, so it is UNKNOWN."""
    return SendResult(
        Outcome.UNKNOWN,
        code=f"http_{reply.status}",
        detail=why,
        raw={"body": reply.body[:2000].decode("utf-8", "replace")},
    )


def refused(code: str, detail: str) -> SendResult:
    """Refused here, before calling anyone: nothing was sent and sending again will not help."""
    return SendResult(Outcome.FAILED, code=code, detail=detail, retryable=False)


# --- phone numbers -------------------------------------------------------------------------


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def split_phone(number: str) -> tuple[str, str]:
    """``(country_code, national_digits)`` for an E.164 number; Korean numbers keep their
    leading 0 (``+821012345678`` → ``("82", "01012345678")``). Plain digits are taken as
    already national Korean. Raises ValueError for something that is not a phone number."""
    number = number.strip()
    if not number.startswith("+"):
        national = digits(number)
        if not national:
            raise ValueError(f"not a phone number: {number!r}")
        return "82", national
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {number!r}") from exc
    national = digits(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))
    if not national:
        raise ValueError(f"not a phone number: {number!r}")
    return str(parsed.country_code), national


def kr_to_e164(number: str) -> str:
    """A Korean national number as the providers echo it (``01012341234``) → ``+821012341234``."""
    raw = number.strip()
    if raw.startswith("+"):
        return "+" + digits(raw)
    national = digits(raw)
    if national.startswith("82") and not national.startswith("0"):
        return "+" + national
    return "+82" + national.removeprefix("0")


# --- ad text (compliance-kr §1.3: "(광고)" first, free 080 opt-out last) ----------------------

_AD_PREFIX = re.compile(r"^\(광고\)")
_AD_FOOTER = re.compile(r"(무료\s*수신\s*거부|무료\s*거부)\s*\]?\s*:?\s*080[\d\s-]{7,}\s*$")


def ad_text_problem(text: str) -> str:
    """Why an ad SMS text would be refused, or "" when it has the marker and the footer."""
    if not _AD_PREFIX.match(text):
        return "an ad must start with exactly '(광고)'"
    if not _AD_FOOTER.search(text):
        return "an ad must end with '무료수신거부 080…' or '무료거부 080…'"
    return ""


def cp949_len(text: str) -> int:
    return len(text.encode("cp949", errors="replace"))


# --- keys and times ------------------------------------------------------------------------


def short_key(key: str, limit: int = 100) -> str:
    """The idempotency key as sent to a provider field with a length limit: unchanged when it
    fits, otherwise a stable hash of it (the same key always gives the same value)."""
    if len(key) <= limit:
        return key
    return "sha256-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[: max(8, limit - 7)]


def now_utc() -> datetime:
    return datetime.now(UTC)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
