"""The merge page: suggestions side by side, merge, "not the same person", history and undo;
owners and managers only, and nothing of another shop."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dangol.customers.merge_selectors import merge_suggestions
from dangol.customers.merging import customer_merge
from dangol.customers.models import Customer, CustomerMerge, MergeDismissal
from dangol.sales.models import CustomerStats
from dangol.shops.models import Role
from dangol.shops.services import membership_grant
from tests.app.factories import make_customer, make_purchases, make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    shop, store, owner, product = make_shop("mrg")
    users = get_user_model().objects
    staff = users.create_user(username="staff-mrg", password="x-long-pass-1")
    membership_grant(shop=shop, user=staff, role=Role.STAFF)
    manager = users.create_user(username="manager-mrg", password="x-long-pass-1")
    membership_grant(shop=shop, user=manager, role=Role.MANAGER)
    old = make_customer(shop, name="이지은", phone="010-2345-6789")
    new = make_customer(shop, name="이 지은", phone="010-9876-6789")  # same name, same last 4
    make_customer(shop, name="이지은", phone="010-2345-1111")  # other last 4
    make_customer(shop, name="은지이", phone="010-3456-6789")  # same characters, other name
    make_purchases(shop, store, product, old, days_ago=[3, 10])
    make_purchases(shop, store, product, new, days_ago=[1])
    return SimpleNamespace(
        shop=shop,
        store=store,
        product=product,
        owner=owner,
        staff=staff,
        manager=manager,
        old=old,
        new=new,
    )


def test_suggestions_are_same_name_and_same_last_four_only(w):
    pairs = merge_suggestions(shop=w.shop, limit=10)
    assert [(p.keep.pk, p.merge.pk) for p in pairs] == [(w.old.pk, w.new.pk)]
    assert pairs[0].keep.visit_count == 2


def test_page_shows_the_pair_side_by_side_with_masked_phones(client, w):
    client.force_login(w.manager)
    response = client.get(reverse("web:merges"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-keep="{w.old.pk}" data-merge="{w.new.pk}"' in body
    assert "010-****-6789" in body and "010-2345-6789" not in body
    assert 'data-visits="2"' in body and 'data-visits="1"' in body
    assert "<script" not in body.split("<main", 1)[-1] and 'style="' not in body


def test_merge_then_undo_from_the_page(client, w):
    client.force_login(w.owner)
    url = reverse("web:merge_confirm")
    response = client.post(url, {"keep": w.old.pk, "merge": w.new.pk})
    assert response.status_code == 302
    w.new.refresh_from_db()
    assert w.new.merged_into_id == w.old.pk
    assert CustomerStats.unscoped.get(customer=w.old).visits == 3
    record = CustomerMerge.unscoped.get()
    body = client.get(reverse("web:merges")).content.decode()
    assert f'data-merge-record="{record.pk}"' in body
    assert f'data-keep="{w.old.pk}"' not in body  # merged: no longer suggested
    client.post(reverse("web:merge_undo", args=[record.pk]))
    w.new.refresh_from_db()
    record.refresh_from_db()
    assert w.new.merged_into_id is None and record.undone_at is not None
    assert CustomerStats.unscoped.get(customer=w.old).visits == 2
    # A second undo is refused with a message, not an error page.
    again = client.post(reverse("web:merge_undo", args=[record.pk]), follow=True)
    assert again.status_code == 200


def test_not_the_same_person_is_remembered(client, w):
    client.force_login(w.owner)
    client.post(reverse("web:merge_dismiss"), {"keep": w.new.pk, "merge": w.old.pk})
    assert MergeDismissal.unscoped.filter(first=w.old, second=w.new).exists()
    assert merge_suggestions(shop=w.shop, limit=10) == []
    body = client.get(reverse("web:merges")).content.decode()
    assert f'data-keep="{w.old.pk}"' not in body


def test_staff_cannot_merge(client, w):
    client.force_login(w.staff)
    assert client.get(reverse("web:merges")).status_code == 403
    response = client.post(reverse("web:merge_confirm"), {"keep": w.old.pk, "merge": w.new.pk})
    assert response.status_code == 403
    dismiss = client.post(reverse("web:merge_dismiss"), {"keep": w.old.pk, "merge": w.new.pk})
    assert dismiss.status_code == 403
    record = customer_merge(shop=w.shop, keep=w.old, merge=w.new, user=w.owner)
    assert client.post(reverse("web:merge_undo", args=[record.pk])).status_code == 403
    assert Customer.unscoped.get(pk=w.new.pk).merged_into_id == w.old.pk
    assert not MergeDismissal.unscoped.exists()


def test_another_shops_customers_and_merges_are_404(client, w):
    other_shop, *_ = make_shop("other")
    theirs = make_customer(other_shop, name="이지은", phone="010-5555-6789")
    their_twin = make_customer(other_shop, name="이지은", phone="010-6666-6789")
    their_record = customer_merge(shop=other_shop, keep=theirs, merge=their_twin, user=None)
    client.force_login(w.owner)
    for data in (
        {"keep": w.old.pk, "merge": theirs.pk},
        {"keep": theirs.pk, "merge": w.new.pk},
        {"keep": "x", "merge": w.new.pk},
    ):
        assert client.post(reverse("web:merge_confirm"), data).status_code == 404
        assert client.post(reverse("web:merge_dismiss"), data).status_code == 404
    assert client.post(reverse("web:merge_undo", args=[their_record.pk])).status_code == 404
    assert Customer.unscoped.get(pk=their_twin.pk).merged_into_id == theirs.pk
    assert Customer.unscoped.get(pk=w.new.pk).merged_into_id is None
    body = client.get(reverse("web:merges")).content.decode()
    assert f'data-merge-record="{their_record.pk}"' not in body


def test_a_merged_customer_cannot_be_merged_again_from_the_page(client, w):
    client.force_login(w.owner)
    customer_merge(shop=w.shop, keep=w.old, merge=w.new, user=w.owner)
    response = client.post(reverse("web:merge_confirm"), {"keep": w.new.pk, "merge": w.old.pk})
    assert response.status_code == 404
