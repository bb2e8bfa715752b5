"""Which provider sends each channel, from the environment (secrets never in the database).

DANGOL_SMS_PROVIDER=console|solapi|nhn_sms      (default console: records, sends nothing)
DANGOL_KAKAO_PROVIDER=console|nhn_alimtalk      DANGOL_EMAIL_PROVIDER=console|smtp
DANGOL_SMTP_CONNECTIONS=4   (SMTP connections the dispatcher sends on at once)
The SMTP provider keeps its journal (what the server answered) in the data directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from dangol.core.config import ConfigError
from dangol.messaging.models import Channel
from dangol.messaging.providers import provider_from_settings
from dangol.messaging.providers.base import Provider
from dangol.messaging.providers.console import ConsoleProvider
from dangol.messaging.providers.smtp_journal import SmtpJournal
from dangol.messaging.providers.webhook import WebhookProvider

_ENV = {
    Channel.SMS: "DANGOL_SMS_PROVIDER",
    Channel.ALIMTALK: "DANGOL_KAKAO_PROVIDER",
    Channel.BRAND: "DANGOL_KAKAO_PROVIDER",
    Channel.EMAIL: "DANGOL_EMAIL_PROVIDER",
    Channel.PUSH: "DANGOL_PUSH_PROVIDER",
}


def providers_from_environment() -> dict[str, Provider]:
    """Console for every channel unless a real provider is configured."""
    console = ConsoleProvider()
    chosen: dict[str, Provider] = {}
    for channel, variable in _ENV.items():
        name = os.environ.get(variable, "console")
        chosen[channel] = console if name == "console" else provider_from_environment(name)
    return chosen


def _required(variable: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise ConfigError(
            f"{variable} 환경 변수가 필요합니다.",
            f"The environment variable {variable} is required.",
        )
    return value


# Each provider's constructor arguments and the environment variables they come from.
_SETTINGS: dict[str, dict[str, str]] = {
    "webhook": {"url": "DANGOL_WEBHOOK_URL", "secret": "DANGOL_WEBHOOK_SECRET"},
    "solapi": {"api_key": "DANGOL_SOLAPI_API_KEY", "api_secret": "DANGOL_SOLAPI_API_SECRET"},
    "nhn_sms": {"app_key": "DANGOL_NHN_SMS_APP_KEY", "secret_key": "DANGOL_NHN_SMS_SECRET_KEY"},
    "nhn_alimtalk": {
        "app_key": "DANGOL_NHN_KAKAO_APP_KEY",
        "secret_key": "DANGOL_NHN_KAKAO_SECRET_KEY",
        "sender_key": "DANGOL_NHN_KAKAO_SENDER_KEY",
    },
    "nhn_brand": {
        "app_key": "DANGOL_NHN_KAKAO_APP_KEY",
        "secret_key": "DANGOL_NHN_KAKAO_SECRET_KEY",
        "sender_key": "DANGOL_NHN_KAKAO_SENDER_KEY",
    },
    "smtp": {"host": "DANGOL_SMTP_HOST", "from_address": "DANGOL_SMTP_FROM"},
}


def provider_from_environment(name: str) -> Provider:
    if name == "webhook":
        return WebhookProvider(
            url=_required("DANGOL_WEBHOOK_URL"), secret=_required("DANGOL_WEBHOOK_SECRET")
        )
    if name not in _SETTINGS:
        known = ", ".join(["console", *sorted(_SETTINGS)])
        raise ConfigError(
            f"알 수 없는 발송 업체입니다: {name} (가능: {known})",
            f"Unknown provider {name!r} (known: {known}).",
        )
    kwargs = {arg: _required(variable) for arg, variable in _SETTINGS[name].items()}
    if name == "smtp":
        kwargs["port"] = int(os.environ.get("DANGOL_SMTP_PORT", "587"))
        kwargs["username"] = os.environ.get("DANGOL_SMTP_USER") or None
        kwargs["password"] = os.environ.get("DANGOL_SMTP_PASSWORD") or None
        kwargs["starttls"] = os.environ.get("DANGOL_SMTP_STARTTLS", "true").lower() == "true"
        # Connections used at once; most relays accept a handful per client.
        kwargs["connections"] = int(os.environ.get("DANGOL_SMTP_CONNECTIONS", "4"))
        kwargs["journal"] = SmtpJournal(Path(settings.DATA_DIR) / "smtp-journal.log")
    return provider_from_settings(name, **kwargs)
