"""The privacy page: owners and managers only, another shop's ids are 404, overdue in red."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from dangol.audit.models import AuditEvent
from dangol.core.tenancy import shop_scope
from dangol.customers.models import Customer
from dangol.privacy.models import DataSubjectRequest, Erasure, RetentionPolicy
from dangol.privacy.services import dsr_create
from dangol.shops.services import membership_grant

pytestmark = pytest.mark.django_db


def _request(shop, customer, kind, **extra):
    with shop_scope(shop):
        return dsr_create(shop=shop, customer=customer, kind=kind, **extra)


def test_owner_enters_a_request_and_sees_the_deadline(client, two_shops):
    a = two_shops.a
    client.force_login(a.owner)
    page = client.get(reverse("web:privacy_requests"))
    assert page.status_code == 200
    response = client.post(
        reverse("web:privacy_requests"),
        {"phone": "010-1111-2222", "kind": "access", "notes": "매장 방문, 신분증 확인"},
    )
    assert response.status_code == 302
    created = DataSubjectRequest.unscoped.get(shop=a.shop)
    assert created.customer_id == a.customer.pk and created.entered_by == a.owner
    body = client.get(reverse("web:privacy_requests")).content.decode()
    assert f'data-request="{created.pk}"' in body and 'data-days="10"' in body
    # Another shop's customer, by phone or by number, is not found.
    foreign = {"phone": "010-3333-4444", "kind": "access"}
    assert client.post(reverse("web:privacy_requests"), foreign).status_code == 400
    by_id = {"customer_id": two_shops.b.customer.pk, "kind": "access"}
    assert client.post(reverse("web:privacy_requests"), by_id).status_code == 404
    assert DataSubjectRequest.unscoped.count() == 1


def test_overdue_requests_are_shown_in_red(client, two_shops):
    a = two_shops.a
    late = _request(
        a.shop, a.customer, "access", received_at=timezone.now() - dt.timedelta(days=11)
    )
    ok = _request(a.shop, a.customer, "stop")
    client.force_login(a.owner)
    body = client.get(reverse("web:privacy_requests")).content.decode()
    found = re.findall(r'<li class="pad dsr( overdue)?" data-request="(\d+)"', body)
    rows = {int(pk): flag for flag, pk in found}
    assert rows[late.pk] == " overdue" and rows[ok.pk] == ""
    assert 'class="deadline late"' in body
    detail = client.get(reverse("web:privacy_request", args=[late.pk])).content.decode()
    assert "card overdue" in detail


def test_access_download_from_the_page(client, two_shops):
    a = two_shops.a
    request = _request(a.shop, a.customer, "access")
    client.force_login(a.owner)
    response = client.post(reverse("web:privacy_request_access", args=[request.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    data = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("data.json"))
    assert data["profile"][0]["name"] == "김민지"
    assert AuditEvent.unscoped.filter(action="export", customer_id=a.customer.pk).count() == 1


def test_manager_erases_staff_cannot(client, two_shops, django_user_model):
    a = two_shops.a
    request = _request(a.shop, a.customer, "deletion")
    staff = django_user_model.objects.create_user("staff-a", password="pw-long-enough-1")
    membership_grant(shop=a.shop, user=staff, role="staff")
    client.force_login(staff)
    erase = reverse("web:privacy_request_erase", args=[request.pk])
    assert client.post(erase, {"confirm": "on"}).status_code == 403
    assert client.get(reverse("web:privacy_requests")).status_code == 403
    assert client.post(reverse("web:privacy_retention"), {"inactive_years": 1}).status_code == 403
    assert not Erasure.unscoped.exists()
    manager = django_user_model.objects.create_user("manager-a", password="pw-long-enough-1")
    membership_grant(shop=a.shop, user=manager, role="manager")
    client.force_login(manager)
    assert client.post(erase, {}).status_code == 302  # no confirmation: nothing happens
    assert not Erasure.unscoped.exists()
    assert client.post(erase, {"confirm": "on"}).status_code == 302
    assert Erasure.unscoped.filter(customer=a.customer).exists()
    assert Customer.unscoped.get(pk=a.customer.pk).name == ""
    event = AuditEvent.unscoped.get(action="delete", customer_id=a.customer.pk)
    assert event.username == "manager-a"
    # The anonymous row still renders everywhere, with nothing of the person on it.
    for url in (reverse("web:customer", args=[a.customer.pk]), reverse("web:customers"), "/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "김민지" not in response.content.decode() and "2222" not in response.content.decode()


def test_another_shops_request_ids_are_404(client, two_shops):
    theirs = _request(two_shops.a.shop, two_shops.a.customer, "deletion")
    client.force_login(two_shops.b.owner)
    for name in ("privacy_request",):
        assert client.get(reverse(f"web:{name}", args=[theirs.pk])).status_code == 404
    for name in (
        "privacy_request_access",
        "privacy_request_correct",
        "privacy_request_stop",
        "privacy_request_erase",
        "privacy_request_refuse",
    ):
        url = reverse(f"web:{name}", args=[theirs.pk])
        assert client.post(url, {"confirm": "on", "reason": "x"}).status_code == 404
    assert not Erasure.unscoped.exists()
    assert DataSubjectRequest.unscoped.get(pk=theirs.pk).status == "open"


def test_retention_policy_form(client, two_shops):
    a = two_shops.a
    client.force_login(a.owner)
    url = reverse("web:privacy_retention")
    assert client.post(url, {"inactive_years": 0}).status_code == 302
    assert not RetentionPolicy.unscoped.exists()  # below the one-year minimum
    client.post(url, {"inactive_years": 3})
    assert RetentionPolicy.unscoped.get(shop=a.shop).inactive_years == 3
    client.post(url, {"inactive_years": ""})
    assert RetentionPolicy.unscoped.get(shop=a.shop).inactive_years is None
