"""Dangol's own deployment checks, run by `dangol check --deploy` after Django's.

Each has a stable id (dangol.E001…) so an operator can look it up or silence it knowingly
(SILENCED_SYSTEM_CHECKS), and a Korean and an English sentence: the person reading it is
often the shop owner, not a developer.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError

KEY_FILES = ("secret_key", "field_keys", "blind_index_key")
# Providers that send nothing: no sender number or opt-out line is needed for them.
_OFFLINE_PROVIDERS = {"", "console"}


def _error(ko: str, en: str, *, hint: str, id: str) -> Error:
    return Error(f"{ko} / {en}", hint=hint, id=id)


def _key_size_ok(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key)) == 32
    except ValueError:
        return False


@register(Tags.security, deploy=True)
def check_keys(app_configs=None, **kwargs) -> list[CheckMessage]:
    out = []
    field_keys = getattr(settings, "DANGOL_FIELD_KEYS", [])
    if not field_keys or not all(_key_size_ok(k) for k in field_keys):
        out.append(
            _error(
                "개인정보 암호화 키가 없거나 32바이트가 아닙니다",
                "the field-encryption keys are missing or not 32 bytes",
                hint="DANGOL_FIELD_KEYS: base64 32-byte keys (`dangol keys generate`).",
                id="dangol.E001",
            )
        )
    index_keys = getattr(settings, "DANGOL_BLIND_INDEX_KEYS", [])
    if not index_keys or not all(_key_size_ok(k) for k in index_keys):
        out.append(
            _error(
                "검색 색인 키가 없거나 32바이트가 아닙니다",
                "the blind-index keys are missing or not 32 bytes",
                hint="DANGOL_BLIND_INDEX_KEY: base64 32-byte keys (`dangol keys generate`).",
                id="dangol.E002",
            )
        )
    return out


@register(Tags.security, deploy=True)
def check_key_files(app_configs=None, **kwargs) -> list[CheckMessage]:
    out = []
    directory = Path(settings.DATA_DIR)
    for name in KEY_FILES:
        path = directory / name
        if not path.exists():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            out.append(
                _error(
                    f"키 파일 {name}을 다른 사용자가 읽을 수 있습니다 (권한 {mode:o})",
                    f"the key file {name} is readable by other users (mode {mode:o})",
                    hint=f"chmod 600 {path}",
                    id="dangol.E003",
                )
            )
    return out


@register(Tags.security, deploy=True)
def check_serving(app_configs=None, **kwargs) -> list[CheckMessage]:
    out = []
    if settings.DEBUG:
        out.append(
            _error(
                "디버그 모드가 켜져 있습니다",
                "debug mode is on",
                hint="Unset DANGOL_DEBUG.",
                id="dangol.E004",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        out.append(
            _error(
                "ALLOWED_HOSTS가 모든 호스트(*)를 허용합니다",
                "ALLOWED_HOSTS accepts any host (*)",
                hint="DANGOL_ALLOWED_HOSTS=crm.example.com",
                id="dangol.E005",
            )
        )
    public_url = getattr(settings, "PUBLIC_URL", "")
    if not public_url.startswith("https://"):
        out.append(
            _error(
                "공개 주소가 https가 아닙니다 (수신거부 링크가 암호화되지 않습니다)",
                "the public URL is not https (unsubscribe links would travel in clear)",
                hint="DANGOL_PUBLIC_URL=https://crm.example.com",
                id="dangol.E006",
            )
        )
    elif not (settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE):
        out.append(
            _error(
                "HTTPS로 서비스하지만 보안 쿠키가 꺼져 있습니다",
                "served over HTTPS but the cookies are not marked secure",
                hint="DANGOL_SECURE_COOKIES=true",
                id="dangol.E007",
            )
        )
    return out


@register(Tags.security, deploy=True)
def check_ad_senders(app_configs=None, **kwargs) -> list[CheckMessage]:
    """Ads by SMS or KakaoTalk need a registered sender and a free 080 opt-out line."""
    providers = {
        os.environ.get(v, "console") for v in ("DANGOL_SMS_PROVIDER", "DANGOL_KAKAO_PROVIDER")
    }
    if providers <= _OFFLINE_PROVIDERS:
        return []
    # Through the registry: core sits below the shops app and must not import it.
    shop_model = apps.get_model("shops", "Shop")
    try:
        shops = list(shop_model.objects.values_list("slug", "sender_numbers", "optout_080"))
    except DatabaseError:
        return []  # not migrated yet: `dangol migrate` reports that itself
    out = []
    for slug, senders, optout in shops:
        if not senders:
            out.append(
                _error(
                    f"'{slug}' 매장에 등록된 발신번호가 없습니다",
                    f"shop '{slug}' has no registered sender number",
                    hint="Register the sender number (발신번호 사전등록) in the shop settings.",
                    id="dangol.E008",
                )
            )
        if not optout:
            out.append(
                _error(
                    f"'{slug}' 매장에 080 수신거부 번호가 없습니다",
                    f"shop '{slug}' has no 080 opt-out number",
                    hint="Ads must carry a free opt-out number; set it in the shop settings.",
                    id="dangol.E009",
                )
            )
    return out
