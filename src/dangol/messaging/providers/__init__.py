"""Sending providers. Each one implements ``base.Provider``; configure them with plain
arguments (the caller reads secrets from the environment) or by name through
``provider_from_settings``."""

from __future__ import annotations

from typing import Any

from .base import (
    Channel,
    DeliveryReport,
    OptOut,
    Outcome,
    OutgoingMessage,
    Provider,
    SendResult,
    WebhookError,
)
from .console import ConsoleProvider
from .nhn import NhnAlimtalkProvider, NhnBrandMessageProvider, NhnSmsProvider
from .smtp import SmtpProvider
from .solapi import SolapiProvider

PROVIDERS: dict[str, type] = {
    "console": ConsoleProvider,
    "smtp": SmtpProvider,
    "solapi": SolapiProvider,
    "nhn_sms": NhnSmsProvider,
    "nhn_alimtalk": NhnAlimtalkProvider,
    "nhn_brand": NhnBrandMessageProvider,
}


def provider_from_settings(name: str, **kwargs: Any) -> Provider:
    """The provider called ``name``, built with ``kwargs`` as its constructor arguments."""
    try:
        cls = PROVIDERS[name]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {name!r}; known: {known}") from None
    return cls(**kwargs)


__all__ = [
    "PROVIDERS",
    "Channel",
    "ConsoleProvider",
    "DeliveryReport",
    "NhnAlimtalkProvider",
    "NhnBrandMessageProvider",
    "NhnSmsProvider",
    "OptOut",
    "Outcome",
    "OutgoingMessage",
    "Provider",
    "SendResult",
    "SmtpProvider",
    "SolapiProvider",
    "WebhookError",
    "provider_from_settings",
]
