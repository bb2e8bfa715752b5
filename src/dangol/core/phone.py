"""Phone numbers: everything is normalised to E.164 (+82…) before anything else touches it."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "KR"


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("전화번호가 비어 있습니다 / The phone number is empty.")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(
            f"전화번호 형식이 아닙니다: {text!r} / Not a phone number: {text!r}"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(
            f"유효하지 않은 전화번호입니다: {text!r} / Invalid phone number: {text!r}"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """National format for display: +821012345678 → 010-1234-5678."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, DEFAULT_REGION)
    if number.country_code == 82:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_phone(e164: str) -> str:
    """010-1234-5678 → 010-****-5678."""
    shown = format_phone(e164)
    parts = shown.split("-")
    if len(parts) == 3:
        return f"{parts[0]}-{'*' * len(parts[1])}-{parts[2]}"
    return shown[:-4].translate(str.maketrans("0123456789", "**********")) + shown[-4:]


def phone_last4(e164: str) -> str:
    digits = "".join(ch for ch in e164 if ch.isdigit())
    return digits[-4:]
