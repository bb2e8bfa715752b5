"""Which provider sends each channel, from the environment (secrets never in the database).

DANGOL_SMS_PROVIDER=console|solapi|nhn_sms      (default console: records, sends nothing)
DANGOL_KAKAO_PROVIDER=console|nhn_alimtalk      DANGOL_EMAIL_PROVIDER=console|smtp
"""

from __future__ import annotations

import os

from dangol.core.config import ConfigError
from dangol.messaging.models import Channel
from dangol.messaging.providers.base import Provider
from dangol.messaging.providers.console import ConsoleProvider
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


def provider_from_environment(name: str) -> Provider:
    if name == "webhook":
        return WebhookProvider(
            url=_required("DANGOL_WEBHOOK_URL"), secret=_required("DANGOL_WEBHOOK_SECRET")
        )
    raise ConfigError(f"알 수 없는 발송 업체입니다: {name}", f"Unknown provider {name!r}.")
