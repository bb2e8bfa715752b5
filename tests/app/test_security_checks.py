"""`dangol check --deploy`: each of our checks fires on its own misconfiguration, and only then."""

from __future__ import annotations

import pytest

from dangol.cli.main import main
from dangol.core import checks
from dangol.core.config import new_key
from tests.app.factories import make_shop


@pytest.fixture
def production(settings, tmp_path, monkeypatch):
    """A configuration that passes every Dangol check."""
    for name in checks.KEY_FILES:
        path = tmp_path / name
        path.write_text(new_key() + "\n")
        path.chmod(0o600)
    settings.DATA_DIR = tmp_path
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["crm.example.com"]
    settings.PUBLIC_URL = "https://crm.example.com"
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    monkeypatch.delenv("DANGOL_SMS_PROVIDER", raising=False)
    monkeypatch.delenv("DANGOL_KAKAO_PROVIDER", raising=False)
    # The browser tests' live server needs this in the same process; a deployment never has it.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    return settings


def _ids(*found) -> set[str]:
    return {m.id for group in found for m in group}


def _all() -> set[str]:
    return _ids(
        checks.check_keys(),
        checks.check_key_files(),
        checks.check_serving(),
        checks.check_ad_senders(),
    )


def test_a_good_configuration_passes(production, db):
    assert _all() == set()
    assert main(["check", "--deploy"]) == 0


def test_messages_are_bilingual(production):
    production.DEBUG = True
    (message,) = checks.check_serving()
    assert message.id == "dangol.E004"
    assert "디버그" in message.msg and "debug mode" in message.msg


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("DANGOL_FIELD_KEYS", ["c2hvcnQ="], "dangol.E001"),
        ("DANGOL_FIELD_KEYS", [], "dangol.E001"),
        ("DANGOL_BLIND_INDEX_KEYS", ["c2hvcnQ="], "dangol.E002"),
        ("DEBUG", True, "dangol.E004"),
        ("ALLOWED_HOSTS", ["*"], "dangol.E005"),
        ("PUBLIC_URL", "http://crm.example.com", "dangol.E006"),
        ("SESSION_COOKIE_SECURE", False, "dangol.E007"),
        ("CSRF_COOKIE_SECURE", False, "dangol.E007"),
    ],
)
def test_each_setting_check(production, db, setting, value, expected):
    setattr(production, setting, value)
    assert _all() == {expected}


def test_key_file_readable_by_others(production, db):
    (production.DATA_DIR / "field_keys").chmod(0o644)
    found = checks.check_key_files()
    assert [m.id for m in found] == ["dangol.E003"]
    assert "field_keys" in found[0].msg


def test_ad_provider_needs_sender_and_080(production, db, monkeypatch):
    shop, *_ = make_shop("senders")
    shop.sender_numbers = []
    shop.optout_080 = ""
    shop.save()
    assert checks.check_ad_senders() == []  # console provider: nothing is sent
    monkeypatch.setenv("DANGOL_SMS_PROVIDER", "solapi")
    assert _ids(checks.check_ad_senders()) == {"dangol.E008", "dangol.E009"}
    shop.sender_numbers = ["02-555-0101"]
    shop.optout_080 = "080-123-4567"
    shop.save()
    assert checks.check_ad_senders() == []


def test_exit_code_is_non_zero_on_error(production, db, capsys):
    production.ALLOWED_HOSTS = ["*"]
    assert main(["check", "--deploy"]) == 1
    assert "dangol.E005" in capsys.readouterr().err
