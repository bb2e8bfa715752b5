"""Idle logout, the Content-Security-Policy and the production-mode settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from django.urls import reverse

from dangol.core.middleware import LAST_SEEN
from tests.app.factories import make_shop


@pytest.fixture
def owner_client(db, client):
    _, _, owner, _ = make_shop("idle")
    client.force_login(owner)
    return client


def _age_session(client, seconds: int) -> None:
    session = client.session
    session[LAST_SEEN] = int(time.time()) - seconds
    session.save()


def test_active_user_stays_signed_in(owner_client, settings):
    settings.DANGOL_IDLE_MINUTES = 30
    assert owner_client.get(reverse("web:home")).status_code == 200
    _age_session(owner_client, 29 * 60)
    assert owner_client.get(reverse("web:customers")).status_code == 200
    assert owner_client.session[LAST_SEEN] >= int(time.time()) - 5  # activity refreshed it


def test_idle_user_is_logged_out(owner_client, settings):
    settings.DANGOL_IDLE_MINUTES = 30
    owner_client.get(reverse("web:home"))
    _age_session(owner_client, 31 * 60)
    response = owner_client.get(reverse("web:customers"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
    assert "next=%2Fcustomers%2F" in response["Location"]
    assert "_auth_user_id" not in owner_client.session
    page = owner_client.get(response["Location"])
    assert 'class="messages"' in page.content.decode()  # the login page says why
    assert owner_client.get(reverse("web:customers")).status_code == 302


def test_idle_htmx_request_redirects_the_whole_page(owner_client, settings):
    settings.DANGOL_IDLE_MINUTES = 5
    owner_client.get(reverse("web:home"))
    _age_session(owner_client, 6 * 60)
    response = owner_client.get(reverse("web:customers"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("web:login"))


def test_pages_carry_a_self_only_policy(owner_client):
    for name in ("web:home", "web:customers", "web:message_templates", "web:login"):
        response = owner_client.get(reverse(name))
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        body = response.content.decode()
        assert "<script>" not in body and " style=" not in body and "onclick" not in body
    assert response.cookies.get("csrftoken") is None or response.cookies["csrftoken"]["httponly"]


def _settings_under(env: dict[str, str], tmp_path) -> dict:
    code = (
        "import json; from dangol import settings as s; print(json.dumps({k: getattr(s, k, None)"
        " for k in ['SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_SECURE',"
        " 'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY', 'DANGOL_IDLE_MINUTES',"
        " 'SECURE_PROXY_SSL_HEADER']}))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("DANGOL_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DANGOL_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_production_mode_settings(tmp_path):
    plain = _settings_under({}, tmp_path)
    assert plain["SECURE_SSL_REDIRECT"] is None and plain["SESSION_COOKIE_SECURE"] is False
    assert plain["CSRF_COOKIE_HTTPONLY"] is True and plain["DANGOL_IDLE_MINUTES"] == 30
    https = _settings_under({"DANGOL_HTTPS": "true", "DANGOL_IDLE_MINUTES": "10"}, tmp_path)
    assert https["SECURE_SSL_REDIRECT"] is True
    assert https["SECURE_HSTS_SECONDS"] == 31536000
    assert https["SESSION_COOKIE_SECURE"] is True and https["CSRF_COOKIE_SECURE"] is True
    assert https["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert https["DANGOL_IDLE_MINUTES"] == 10
