"""Optional TOTP two-factor login for owners and managers, with single-use recovery codes."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangol.audit.models import AuditEvent
from dangol.core import ratelimit
from dangol.shops.models import Role
from dangol.shops.services import membership_grant
from tests.app.factories import make_shop

PASSWORD = "correct horse battery"


def _code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    # A later step than the last one used: django-otp refuses a code twice (replay).
    value = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0 - steps_ahead * device.step,
        digits=device.digits,
    )
    return f"{value:0{device.digits}d}"


@pytest.fixture
def owner(db, settings):
    # django-otp's own back-off after a wrong code would also delay the right one here.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    shop, _, owner, _ = make_shop("otp")
    ratelimit.reset(scope="otp", ident=str(owner.pk))
    return shop, owner


def _enrol(client, user) -> list[str]:
    client.force_login(user)
    page = client.get(reverse("web:two_factor")).content.decode()
    assert "otpauth://totp/" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(reverse("web:two_factor"), {"action": "enable", "code": "000000"})
    assert "error" in wrong.content.decode()
    done = client.post(reverse("web:two_factor"), {"action": "enable", "code": _code(device)})
    codes = re.findall(r"<li><code>(\w+)</code></li>", done.content.decode())
    assert len(codes) == 10
    client.logout()
    return codes


def _password_login(client, user) -> None:
    response = client.post(reverse("web:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_enrolled_owner_needs_a_code_after_the_password(owner, client):
    _, user = owner
    _enrol(client, user)
    _password_login(client, user)
    response = client.get(reverse("web:customers"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:two_factor_verify"))
    assert client.get(reverse("web:home"), HTTP_HX_REQUEST="true")["HX-Redirect"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    bad = client.post(response["Location"], {"code": "123456", "next": "/customers/"})
    assert bad.status_code == 200 and client.get("/customers/").status_code == 302
    ok = client.post(
        reverse("web:two_factor_verify"),
        {"code": _code(device, steps_ahead=1), "next": "/customers/"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/customers/"
    assert client.get(reverse("web:customers")).status_code == 200


def test_recovery_code_works_once(owner, client):
    _, user = owner
    codes = _enrol(client, user)
    _password_login(client, user)
    ok = client.post(reverse("web:two_factor_verify"), {"code": codes[0]})
    assert ok.status_code == 302
    assert client.get(reverse("web:home")).status_code == 200
    client.logout()
    _password_login(client, user)
    again = client.post(reverse("web:two_factor_verify"), {"code": codes[0]})
    assert again.status_code == 200
    assert client.get(reverse("web:home")).status_code == 302


def test_wrong_codes_are_throttled(owner, client):
    _, user = owner
    _enrol(client, user)
    _password_login(client, user)
    for _ in range(5):
        client.post(reverse("web:two_factor_verify"), {"code": "000000"})
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    blocked = client.post(reverse("web:two_factor_verify"), {"code": _code(device, steps_ahead=1)})
    assert blocked.status_code == 200
    assert client.get(reverse("web:home")).status_code == 302


def test_not_enrolled_owner_logs_in_with_the_password_only(owner, client):
    _, user = owner
    _password_login(client, user)
    assert client.get(reverse("web:home")).status_code == 200


def test_owner_can_turn_it_off(owner, client):
    _, user = owner
    codes = _enrol(client, user)
    _password_login(client, user)
    client.post(reverse("web:two_factor_verify"), {"code": codes[0]})
    client.post(reverse("web:two_factor"), {"action": "disable", "code": codes[1]})
    assert not TOTPDevice.objects.filter(user=user).exclude(confirmed=False).exists()
    logged = AuditEvent.unscoped.filter(object_type="login", object_id=str(user.pk))
    assert list(logged.order_by("pk").values_list("reason", flat=True)) == [
        "two-factor on",
        "two-factor off",
    ]
    client.logout()
    _password_login(client, user)
    assert client.get(reverse("web:home")).status_code == 200


def test_staff_cannot_enrol(owner, client):
    shop, _ = owner
    staff = get_user_model().objects.create_user("staff-otp", password=PASSWORD)
    membership_grant(shop=shop, user=staff, role=Role.STAFF)
    client.force_login(staff)
    assert client.get(reverse("web:two_factor")).status_code == 403
    manager = get_user_model().objects.create_user("manager-otp", password=PASSWORD)
    membership_grant(shop=shop, user=manager, role=Role.MANAGER)
    client.force_login(manager)
    assert client.get(reverse("web:two_factor")).status_code == 200
