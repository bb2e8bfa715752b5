"""Optional TOTP two-factor login, on django-otp (a maintained library, not our own crypto).

An account is enrolled once its TOTP device is confirmed with a first code; ten single-use
recovery codes (django-otp's static tokens) are issued at the same moment and shown once.
"""

from __future__ import annotations

import base64

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp import devices_for_user, match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10
_NAME = "dangol"


def two_factor_enabled(*, user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_pending_get_or_create(*, user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed device an enrolment page shows; the same one until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=user, name=_NAME, confirmed=False)


def totp_setup_text(*, device: TOTPDevice) -> tuple[str, str]:
    """The otpauth URI (for a QR-less set-up) and the secret in the base32 apps expect."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return device.config_url, secret


@transaction.atomic
def two_factor_enable(*, user: AbstractBaseUser, token: str) -> list[str] | None:
    """Confirm the pending device with its first code; returns the recovery codes, or None."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None or not device.verify_token(_digits(token)):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_reset(user=user)


@transaction.atomic
def recovery_codes_reset(*, user: AbstractBaseUser) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    return codes


@transaction.atomic
def two_factor_disable(*, user: AbstractBaseUser) -> None:
    for device in devices_for_user(user, confirmed=None):
        device.delete()


def two_factor_match(*, user: AbstractBaseUser, code: str):
    """The device a code belongs to (a recovery code is used up), or None."""
    code = code.strip()
    if not code:
        return None
    if code.replace(" ", "").isdigit():
        code = _digits(code)
    return match_token(user, code)


def _digits(token: str) -> str:
    return "".join(ch for ch in token if ch.isdigit())
