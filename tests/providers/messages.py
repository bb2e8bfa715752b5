"""Messages shared by the provider tests."""

from __future__ import annotations

from dangol.messaging.providers.base import OutgoingMessage


def sms(**overrides) -> OutgoingMessage:
    values = {
        "idempotency_key": "auto-7:step-2:cust-31:sms:2026-05-01",
        "channel": "sms",
        "message_type": "SMS",
        "kind": "info",
        "to": "+821012345678",
        "sender": "+8215446859",
        "body": "단골카페: 적립 포인트 안내입니다.",
    }
    values.update(overrides)
    return OutgoingMessage(**values)


AD_BODY = "(광고)단골카페 02-123-4567\n이번 주 아메리카노 20% 할인\n무료수신거부 080-123-4567"
