"""The one interface every sending provider implements.

The outbox calls ``send`` once per message it has already recorded, with the message's own
idempotency key, and maps the answer onto the message's status:

- ``ACCEPTED``: the provider took it (a provider id is known); delivery comes later by webhook
  or ``status``.
- ``DELIVERED``: final success known at once (console, SMTP after the server's 250).
- ``FAILED``: the provider refused it for a known reason; ``retryable`` says whether trying
  again later can help (rate limit, 5xx with no side effect) or not (opted out, bad number).
- ``UNKNOWN``: no answer we can trust (timeout, connection dropped after sending, garbage):
  the message may or may not have gone. The outbox never resends these blindly; it asks
  ``status`` (with the idempotency key / custom field the provider echoes) first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Channel(enum.StrEnum):
    SMS = "sms"  # SMS / LMS / MMS, by length and images
    ALIMTALK = "alimtalk"
    BRAND = "brand"
    EMAIL = "email"
    PUSH = "push"


@dataclass(frozen=True)
class OutgoingMessage:
    """What the provider needs; the body is final (the policy gate has added everything)."""

    idempotency_key: str
    channel: str
    message_type: str  # SMS, LMS, MMS, ALIMTALK, BRAND, EMAIL, PUSH
    kind: str  # "ad" or "info"
    to: str  # E.164 phone (+8210...) or e-mail address
    sender: str  # registered sender number or From address
    body: str
    subject: str = ""
    # AlimTalk / Brand Message: the approved template and its #{variables}.
    template_code: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    # Kakao messages fall back to SMS/LMS with this text (already through the gate), if any.
    fallback_body: str = ""
    fallback_subject: str = ""
    # E-mail: one-click unsubscribe (RFC 8058) and the plain "mailto:" alternative.
    unsubscribe_url: str = ""
    unsubscribe_mailto: str = ""


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str = ""
    code: str = ""  # the provider's own status/error code, verbatim
    detail: str = ""  # the provider's message, for people
    retryable: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryReport:
    """One delivery result parsed from a webhook or a status query."""

    provider_message_id: str
    idempotency_key: str
    outcome: Outcome  # DELIVERED or FAILED (ACCEPTED/UNKNOWN while still in flight)
    code: str = ""
    detail: str = ""


@dataclass(frozen=True)
class OptOut:
    """An 080 opt-out pushed by the provider: the number must be suppressed at once."""

    phone: str  # E.164
    at: str  # ISO-8601 as the provider gave it


class Provider(Protocol):
    name: str
    channels: frozenset[str]

    def send(self, message: OutgoingMessage) -> SendResult: ...

    def status(self, message: OutgoingMessage, provider_message_id: str = "") -> SendResult:
        """Ask the provider what became of a message whose outcome was UNKNOWN or ACCEPTED."""
        ...


class WebhookError(ValueError):
    """A webhook that fails verification or cannot be parsed (answer 4xx, record nothing)."""
