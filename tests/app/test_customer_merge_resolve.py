"""Identity resolution: an exact match on any identity finds the known customer."""

from __future__ import annotations

import pytest

from dangol.customers.models import CustomerIdentity, IdentityKind
from dangol.customers.resolution import (
    IdentityConflict,
    customer_resolve,
    customer_resolve_or_create,
)
from dangol.customers.services import CustomerError, CustomerInput
from tests.app.factories import make_customer


def test_unknown_identities_resolve_to_nobody(two_shops):
    shop = two_shops.a.shop
    assert customer_resolve(shop=shop, phone="010-9876-5432").customer is None
    assert customer_resolve(shop=shop).customer is None


def test_phone_in_any_spelling_finds_the_customer_and_attaches_new_identities(two_shops):
    shop, known = two_shops.a.shop, two_shops.a.customer
    found = customer_resolve(
        shop=shop,
        phone="+82 10 1111 2222",
        identities=[(IdentityKind.CARD_TOKEN, "tok_abc"), (IdentityKind.MEMBER_NO, " M-77 ")],
    )
    assert found.customer.pk == known.pk
    assert sorted(found.attached) == ["card_token", "member_no"]
    assert found.conflicts == []
    # Now the card token alone finds the same customer, and nothing is attached twice.
    again = customer_resolve(shop=shop, identities=[(IdentityKind.MEMBER_NO, "M-77")])
    assert again.customer.pk == known.pk and again.attached == []
    assert CustomerIdentity.unscoped.filter(customer=known).count() == 4


def test_email_is_matched_case_insensitively(two_shops):
    found = customer_resolve(shop=two_shops.a.shop, email="  MinJi@Example.COM ")
    assert found.customer.pk == two_shops.a.customer.pk


def test_identities_are_per_shop(two_shops):
    # Shop B's customer's phone is unknown in shop A.
    assert customer_resolve(shop=two_shops.a.shop, phone="010-3333-4444").customer is None


def test_two_customers_matched_the_strongest_identity_wins_and_the_other_is_a_conflict(two_shops):
    shop = two_shops.a.shop
    other = make_customer(shop, name="이서연", phone="010-5555-6666")
    customer_resolve(shop=shop, phone="010-5555-6666", identities=[("card_token", "T1")])
    found = customer_resolve(
        shop=shop, phone="010-1111-2222", identities=[(IdentityKind.CARD_TOKEN, "T1")]
    )
    assert found.customer.pk == other.pk
    assert found.conflicts == [two_shops.a.customer.pk]
    assert found.attached == []


def test_bad_identities_are_refused(two_shops):
    with pytest.raises(CustomerError):
        customer_resolve(shop=two_shops.a.shop, phone="12")
    with pytest.raises(CustomerError):
        customer_resolve(shop=two_shops.a.shop, identities=[("passport", "X")])


def test_resolve_or_create_creates_once_with_every_identity(two_shops):
    shop = two_shops.a.shop
    data = CustomerInput(name="정하늘", phone="010-7777-1234", email="Sky@Example.com")
    made = customer_resolve_or_create(
        shop=shop, data=data, identities=[(IdentityKind.CARD_TOKEN, "tok-1")]
    )
    assert made.created and made.attached == []
    kinds = CustomerIdentity.unscoped.filter(customer=made.customer).values_list("kind", flat=True)
    assert sorted(kinds) == ["card_token", "email", "phone"]
    # The card alone, or the e-mail in another spelling, finds the same customer.
    for again in (
        customer_resolve_or_create(
            shop=shop,
            data=CustomerInput(name="?", phone=""),
            identities=[(IdentityKind.CARD_TOKEN, "tok-1")],
        ),
        customer_resolve_or_create(
            shop=shop, data=CustomerInput(name="?", phone="", email="sky@example.COM")
        ),
    ):
        assert not again.created and again.customer.pk == made.customer.pk


def test_resolve_or_create_refuses_two_customers_and_attaches_nothing(two_shops):
    shop = two_shops.a.shop
    other = make_customer(shop, name="이서연", phone="010-5555-6666")
    before = CustomerIdentity.unscoped.filter(shop=shop).count()
    with pytest.raises(IdentityConflict) as raised:
        customer_resolve_or_create(
            shop=shop,
            data=CustomerInput(name="?", phone="010-5555-6666", email="minji@example.com"),
            identities=[(IdentityKind.MEMBER_NO, "M-1")],
        )
    assert raised.value.customer_ids == sorted([two_shops.a.customer.pk, other.pk])
    assert CustomerIdentity.unscoped.filter(shop=shop).count() == before
