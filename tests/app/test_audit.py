"""The access log: one row per read, change, deletion or export, exports with a reason, a
monthly review per account, two years kept, nothing readable across shops."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangol.audit.models import AuditAction, AuditEvent
from dangol.audit.selectors import audit_events, audit_month_summary
from dangol.audit.services import RETENTION_DAYS, AuditError, audit_purge_expired, audit_record
from dangol.core.tenancy import shop_scope


@pytest.mark.django_db
def test_records_who_did_what_and_exports_need_a_reason(two_shops):
    a = two_shops.a
    with shop_scope(a.shop):
        event = audit_record(
            shop=a.shop,
            user=a.owner,
            action=AuditAction.VIEW,
            object_type="customer",
            object_id=a.customer.pk,
            customer_id=a.customer.pk,
            ip_address="203.0.113.7",
        )
        assert (event.username, event.ip_address, event.customer_id) == (
            "owner-alpha",
            "203.0.113.7",
            a.customer.pk,
        )
        for reason in ("", "   "):
            with pytest.raises(AuditError):
                audit_record(
                    shop=a.shop, user=a.owner, action="export", object_type="segment", reason=reason
                )
        with pytest.raises(ValueError):
            audit_record(shop=a.shop, user=a.owner, action="peek", object_type="customer")
        assert AuditEvent.objects.for_shop(a.shop).count() == 1


@pytest.mark.django_db
def test_the_record_outlives_the_account_and_the_customer(two_shops):
    a = two_shops.a
    with shop_scope(a.shop):
        audit_record(
            shop=a.shop,
            user=a.owner,
            action="delete",
            object_type="customer",
            customer_id=a.customer.pk,
        )
        a.customer.delete()
        a.owner.delete()
        event = AuditEvent.objects.for_shop(a.shop).get()
    assert event.user is None and event.username == "owner-alpha"
    assert event.customer_id is not None


@pytest.mark.django_db
def test_monthly_review_and_retention(two_shops):
    a, b = two_shops.a, two_shops.b
    now = dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)
    with shop_scope(a.shop):
        for action, rows in (("view", None), ("view", None), ("export", 120), ("export", 30)):
            event = audit_record(
                shop=a.shop,
                user=a.owner,
                action=action,
                object_type="segment",
                rows=rows,
                reason="문자 발송 준비" if action == "export" else "",
            )
            AuditEvent.objects.for_shop(a.shop).filter(pk=event.pk).update(at=now)
        old = audit_record(shop=a.shop, user=a.owner, action="view", object_type="customer")
        AuditEvent.objects.for_shop(a.shop).filter(pk=old.pk).update(
            at=now - dt.timedelta(days=RETENTION_DAYS + 1)
        )
        (summary,) = audit_month_summary(shop=a.shop, month=dt.date(2026, 11, 1))
        assert (summary.views, summary.exports, summary.export_rows) == (2, 2, 150)
        assert audit_events(shop=a.shop, month=dt.date(2026, 10, 1)).count() == 0
        assert audit_purge_expired(shop=a.shop, now=now) == 1
        assert AuditEvent.objects.for_shop(a.shop).count() == 4
    with shop_scope(b.shop):
        assert audit_month_summary(shop=b.shop, month=dt.date(2026, 11, 1)) == []


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reason=st.text(max_size=600), object_id=st.text(max_size=80))
def test_any_text_is_stored_safely_and_truncated(two_shops, reason, object_id):
    a = two_shops.a
    with shop_scope(a.shop):
        if not reason.replace("\x00", "").strip():
            with pytest.raises(AuditError):
                audit_record(
                    shop=a.shop, user=a.owner, action="export", object_type="x", reason=reason
                )
            return
        event = audit_record(
            shop=a.shop,
            user=a.owner,
            action="export",
            object_type="segment",
            object_id=object_id,
            reason=reason,
        )
        event.refresh_from_db()
        assert event.reason == reason.replace("\x00", "").strip()[:300]
        assert event.object_id == object_id.replace("\x00", "")[:40]


@pytest.mark.django_db
def test_api_reads_of_customer_data_are_logged(client, two_shops):
    a = two_shops.a
    client.force_login(a.owner)
    response = client.get(f"/api/v1/customers/{a.customer.pk}", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    with shop_scope(a.shop):
        event = AuditEvent.objects.for_shop(a.shop).get()
    assert (event.action, event.object_type, event.customer_id, event.via) == (
        "view",
        "customer",
        a.customer.pk,
        "api",
    )
    assert event.ip_address == "198.51.100.4" and event.username == "owner-alpha"
    # A refused read of another shop's customer leaves no row pretending it was read.
    client.get(f"/api/v1/customers/{two_shops.b.customer.pk}")
    with shop_scope(a.shop):
        assert AuditEvent.objects.for_shop(a.shop).count() == 1


@pytest.mark.django_db
def test_the_owner_reviews_the_month_and_staff_cannot(client, two_shops, django_user_model):
    from dangol.shops.services import membership_grant

    a = two_shops.a
    client.force_login(a.owner)
    client.get(f"/api/v1/customers/{a.customer.pk}")  # one read, logged
    with shop_scope(a.shop):
        audit_record(
            shop=a.shop,
            user=a.owner,
            action="export",
            object_type="segment",
            rows=42,
            reason="문자 발송 준비",
        )
    page = client.get("/settings/access-log/")
    body = page.content.decode()
    assert page.status_code == 200 and 'data-account="owner-alpha"' in body
    assert "문자 발송 준비" in body and "42" in body
    assert client.get("/settings/access-log/", {"month": "3000-01"}).status_code == 200
    assert client.get("/settings/access-log/", {"month": "<script>"}).status_code == 200
    # Another shop's owner sees only their own month.
    client.force_login(two_shops.b.owner)
    assert "owner-alpha" not in client.get("/settings/access-log/").content.decode()
    staff = django_user_model.objects.create_user("staff-a", password="pw-long-enough-1")
    membership_grant(shop=a.shop, user=staff, role="staff")
    client.force_login(staff)
    assert client.get("/settings/access-log/").status_code == 403
