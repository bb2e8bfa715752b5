"""Who processes customers' data for the shop (수탁자), read from the sending configuration.

The privacy policy must name every processor (개인정보 보호법 제26조, compliance-kr §2.1).
The provider variables are the ones `dangol.messaging.config` reads; core sits below the
messaging app, so it reads the same environment instead of importing it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

# Channel variable → what the processor does for the shop (Korean: it goes into the policy).
_TASKS = {
    "DANGOL_SMS_PROVIDER": "문자 메시지(SMS·LMS) 발송 대행",
    "DANGOL_KAKAO_PROVIDER": "카카오톡 알림톡·브랜드 메시지 발송 대행",
    "DANGOL_EMAIL_PROVIDER": "이메일 발송 대행",
    "DANGOL_PUSH_PROVIDER": "앱 푸시 알림 발송 대행",
}
_COMPANIES = {
    "solapi": "주식회사 솔라피 (SOLAPI)",
    "nhn_sms": "엔에이치엔 클라우드 주식회사 (NHN Cloud)",
    "nhn_alimtalk": "엔에이치엔 클라우드 주식회사 (NHN Cloud)",
    "nhn_brand": "엔에이치엔 클라우드 주식회사 (NHN Cloud)",
}


@dataclass(frozen=True)
class Processor:
    name: str
    task: str


def _company(provider: str) -> str:
    if provider in _COMPANIES:
        return _COMPANIES[provider]
    if provider == "smtp":
        return f"이메일 발송 서버 운영자 ({os.environ.get('DANGOL_SMTP_HOST', '')})"
    if provider == "webhook":
        host = urlsplit(os.environ.get("DANGOL_WEBHOOK_URL", "")).hostname or ""
        return f"발송 연동 서버 운영자 ({host})"
    return provider


def privacy_processors() -> list[Processor]:
    """One line per configured processor and task; the console provider sends nothing."""
    by_company: dict[str, list[str]] = {}
    for variable, task in _TASKS.items():
        provider = os.environ.get(variable, "console") or "console"
        if provider == "console":
            continue
        by_company.setdefault(_company(provider), []).append(task)
    return [Processor(name=name, task=", ".join(tasks)) for name, tasks in by_company.items()]
