"""The bytes of an outgoing e-mail: one text/plain UTF-8 part, headers per RFC 5322 and 2047.

Written out directly instead of through ``email.message.EmailMessage``: the standard
library's header folding cost about 2 ms per message, more than the whole rest of a dispatch,
and every message here has the same simple shape. The received message parses back to the
same headers and text with the standard library's parser (see the SMTP tests).

- Non-ASCII header values (subject, display names) become UTF-8 base64 encoded words, folded
  below 78 characters; ASCII values stay on one line (``List-Unsubscribe`` in particular:
  folded ones have broken DKIM in some stacks, compliance-kr §4).
- The text travels in canonical form (CRLF line ends), base64-encoded, so no 8BITMIME or
  SMTPUTF8 is needed; addresses must be ASCII.
- A line break inside any header value is refused (header injection).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from .base import OutgoingMessage


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID a given idempotency key always gets."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<dangol.{digest}@{domain}>"


def _domain_of(address: str) -> str:
    match = re.search(r"@([A-Za-z0-9.-]+)>?\s*$", address)
    return match.group(1).lower() if match else "localhost"


@dataclass(frozen=True)
class Mail:
    raw: bytes  # headers and body, CRLF line ends, not yet dot-stuffed
    message_id: str
    envelope_from: str
    envelope_to: str
    idempotency_key: str = ""


def _one_line(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} may not contain line breaks")
    return value


def _encoded(name: str, value: str) -> str:
    _one_line(value, name)
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


@functools.lru_cache(maxsize=256)
def _mailbox(value: str, what: str) -> tuple[str, str]:
    """(header form, bare address) of "Name <a@b>" or "a@b"; the same From every time is
    formatted once."""
    name, address = parseaddr(_one_line(value, what))
    if "@" not in address or not address.isascii() or any(c in address for c in " <>"):
        raise ValueError(f"{what} is not a plain ASCII e-mail address: {value!r}")
    return formataddr((name, address), charset="utf-8"), address


def _body(text: str) -> bytes:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    encoded = base64.encodebytes(text.replace("\n", "\r\n").encode("utf-8"))
    return encoded.replace(b"\n", b"\r\n")


def render(message: OutgoingMessage, default_from: str) -> Mail:
    """The message as it goes over the wire; ``ValueError``/``UnicodeError`` if it cannot be
    written lawfully (line breaks in a header, a non-ASCII address, unencodable text)."""
    sender = message.sender if "@" in message.sender else default_from
    from_header, envelope_from = _mailbox(sender, "From")
    to_header, envelope_to = _mailbox(message.to, "To")
    message_id = message_id_for(message.idempotency_key, _domain_of(envelope_from))
    headers = [
        ("From", from_header),
        ("To", to_header),
        ("Subject", _encoded("Subject", message.subject)),
        ("Date", formatdate(localtime=False, usegmt=True)),
        ("Message-ID", message_id),
        ("X-Dangol-Idempotency-Key", _encoded("X-Dangol-Idempotency-Key", message.idempotency_key)),
    ]
    links = []
    if message.unsubscribe_url:
        links.append(f"<{message.unsubscribe_url}>")
    if message.unsubscribe_mailto:
        mailto = message.unsubscribe_mailto
        links.append(f"<{mailto if mailto.startswith('mailto:') else 'mailto:' + mailto}>")
    if links:
        value = _one_line(", ".join(links), "List-Unsubscribe")
        if not value.isascii():
            raise ValueError("unsubscribe links must be ASCII (percent-encoded)")
        headers.append(("List-Unsubscribe", value))
    if message.unsubscribe_url.startswith("https://"):
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    headers += [
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="utf-8"'),
        ("Content-Transfer-Encoding", "base64"),
    ]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("ascii")
    return Mail(
        head + b"\r\n" + _body(message.body),
        message_id,
        envelope_from,
        envelope_to,
        message.idempotency_key,
    )


def dot_stuffed(raw: bytes) -> bytes:
    """The message text as sent after DATA: leading dots doubled, ended by a lone dot."""
    lines = raw.split(b"\r\n")
    stuffed = [b"." + line if line.startswith(b".") else line for line in lines]
    text = b"\r\n".join(stuffed)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    return text + b".\r\n"
