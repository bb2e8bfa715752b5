"""The owner's generated privacy policy names the processors this server actually uses."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dangol.shops.models import Role
from dangol.shops.services import membership_grant
from tests.app.factories import make_shop

URL = "/settings/privacy-policy/"


@pytest.fixture
def shop_owner(db, monkeypatch):
    for variable in (
        "DANGOL_SMS_PROVIDER",
        "DANGOL_KAKAO_PROVIDER",
        "DANGOL_EMAIL_PROVIDER",
        "DANGOL_PUSH_PROVIDER",
    ):
        monkeypatch.delenv(variable, raising=False)
    shop, _, owner, _ = make_shop("policy", name="단골책방")
    return shop, owner


def test_policy_lists_items_retention_and_configured_processors(shop_owner, client, monkeypatch):
    _, owner = shop_owner
    client.force_login(owner)
    assert reverse("web:privacy_policy") == URL
    page = client.get(URL).content.decode()
    assert "단골책방 개인정보 처리방침" in page
    for item in ("이름", "휴대전화번호", "이메일 주소", "생일", "보유 기간", "080-123-4567"):
        assert item in page
    assert "위탁하지 않습니다" in page  # console providers send nothing
    monkeypatch.setenv("DANGOL_SMS_PROVIDER", "nhn_sms")
    monkeypatch.setenv("DANGOL_KAKAO_PROVIDER", "nhn_alimtalk")
    monkeypatch.setenv("DANGOL_EMAIL_PROVIDER", "smtp")
    monkeypatch.setenv("DANGOL_SMTP_HOST", "smtp.example.kr")
    page = client.get(URL).content.decode()
    assert "위탁하지 않습니다" not in page
    assert page.count("엔에이치엔 클라우드") == 1  # one row, both of its tasks
    assert "문자 메시지(SMS·LMS) 발송 대행, 카카오톡 알림톡" in page
    assert "smtp.example.kr" in page and "솔라피" not in page
    assert "print.css" in page


def test_only_the_owner_sees_it(shop_owner, client):
    shop, _ = shop_owner
    manager = get_user_model().objects.create_user("manager-policy", password="x-long-pass-1")
    membership_grant(shop=shop, user=manager, role=Role.MANAGER)
    client.force_login(manager)
    assert client.get(URL).status_code == 403
