"""Identity resolution: find the customer a phone, an e-mail or another identity belongs to.

Every creation path (the import writer, the ingestion API's customer upsert, the check-in
tablet) should call ``customer_resolve`` before ``customer_create``: an exact match on any
identity means the person is already known, and the new identities are attached to that
customer instead of creating a duplicate. Look-ups use the value's blind index under every
configured key, so nobody becomes unfindable while a key is rotated; new identities are stored
under the primary key.

When the identities point at two different customers, the strongest identity wins (card token,
member number, delivery-app id, phone, e-mail) and the identities of the other customer are
reported in ``conflicts`` and not attached: joining two known customers is a merge, which the
owner confirms on the merge page (it moves history and consent, and needs the purchase totals
rebuilt by a higher layer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from dangol.core.crypto import blind_index, blind_indexes
from dangol.core.phone import normalize_phone
from dangol.customers.models import CreatedVia, Customer, CustomerIdentity, IdentityKind
from dangol.customers.services import CustomerError, CustomerInput, customer_create
from dangol.shops.models import Shop

# Strongest first: a card token or member number is issued to one person; a phone or an
# e-mail may be shared by a family.
STRENGTH = [
    IdentityKind.CARD_TOKEN,
    IdentityKind.MEMBER_NO,
    IdentityKind.DELIVERY_APP,
    IdentityKind.PHONE,
    IdentityKind.EMAIL,
]


@dataclass(frozen=True)
class Resolution:
    customer: Customer | None
    # Kinds of the identities attached to the customer by this call.
    attached: list[str] = field(default_factory=list)
    # Ids of other customers that an identity given here already belongs to.
    conflicts: list[int] = field(default_factory=list)


def identity_value(*, kind: str, value: str) -> str:
    """The normalised value of an identity (E.164 phones, lower-cased e-mails, trimmed ids)."""
    if kind not in IdentityKind.values:
        raise CustomerError(f"알 수 없는 식별 정보: {kind} / Unknown identity kind.", field=kind)
    text = (value or "").strip()
    if not text:
        raise CustomerError("식별 정보가 비어 있습니다 / An identity is empty.", field=kind)
    if kind == IdentityKind.PHONE:
        try:
            return normalize_phone(text)
        except ValueError as exc:
            raise CustomerError(str(exc), field="phone") from exc
    if kind == IdentityKind.EMAIL:
        return text.casefold()
    return text


def _purpose(kind: str) -> str:
    # Phones and e-mails share the purpose of Customer.phone_bidx / email_bidx.
    return kind


def _given(
    *, phone: str | None, email: str | None, identities: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    pairs = []
    if phone:
        pairs.append((IdentityKind.PHONE.value, phone))
    if email:
        pairs.append((IdentityKind.EMAIL.value, email))
    pairs.extend(identities)
    seen: dict[tuple[str, str], None] = {}
    for kind, value in pairs:
        seen[(kind, identity_value(kind=kind, value=value))] = None
    return list(seen)


def _live(customer_id: int) -> Customer:
    customer = Customer._base_manager.get(pk=customer_id)
    hops = 0
    while customer.merged_into_id is not None and hops < 20:
        customer = Customer._base_manager.get(pk=customer.merged_into_id)
        hops += 1
    return customer


@transaction.atomic
def customer_resolve(
    *,
    shop: Shop,
    phone: str | None = None,
    email: str | None = None,
    identities: Iterable[tuple[str, str]] = (),
) -> Resolution:
    """The existing customer with any of these identities, with the new ones attached.

    ``identities`` are (kind, value) pairs (``IdentityKind``). Returns ``customer=None`` when
    nobody matches: the caller creates the customer, then calls this again with its phone and
    the identities that ``customer_create`` does not store itself (card tokens, member numbers,
    app ids), as ``customer_resolve_or_create`` does.
    """
    given = _given(phone=phone, email=email, identities=identities)
    if not given:
        return Resolution(customer=None)
    indexes = {
        (kind, value): blind_indexes(value, purpose=_purpose(kind), shop_id=shop.pk)
        for kind, value in given
    }
    owner_of: dict[tuple[str, str], int] = {}
    for (kind, value), bidxs in indexes.items():
        row = (
            CustomerIdentity.unscoped.filter(shop=shop, kind=kind, value_bidx__in=bidxs)
            .values_list("customer_id", flat=True)
            .first()
        )
        if row is not None:
            owner_of[(kind, value)] = _live(row).pk
    if not owner_of:
        return Resolution(customer=None)
    strongest = min(owner_of, key=lambda pair: STRENGTH.index(pair[0]))
    customer = Customer._base_manager.get(pk=owner_of[strongest])
    conflicts = sorted({pk for pk in owner_of.values() if pk != customer.pk})
    attached = []
    for kind, value in given:
        if (kind, value) in owner_of:
            continue
        try:
            with transaction.atomic():
                CustomerIdentity.unscoped.create(
                    shop=shop,
                    customer=customer,
                    kind=kind,
                    value_bidx=blind_index(value, purpose=_purpose(kind), shop_id=shop.pk),
                )
        except IntegrityError:  # attached by someone else in the meantime
            other = _live(
                CustomerIdentity.unscoped.get(
                    shop=shop,
                    kind=kind,
                    value_bidx=blind_index(value, purpose=_purpose(kind), shop_id=shop.pk),
                ).customer_id
            )
            if other.pk != customer.pk:
                conflicts = sorted({*conflicts, other.pk})
            continue
        attached.append(kind)
    return Resolution(customer=customer, attached=attached, conflicts=conflicts)


class IdentityConflict(CustomerError):
    """The identities given belong to two or more different customers: joining them is a
    merge the owner confirms, never something a creation path does on its own."""

    def __init__(self, *, customer_ids: list[int]) -> None:
        super().__init__(
            "이 식별 정보들은 서로 다른 고객의 것입니다. 병합 화면에서 확인해 주세요 / "
            "These identities belong to different customers; confirm a merge on the merge page.",
        )
        self.customer_ids = customer_ids


@dataclass(frozen=True)
class Identified:
    customer: Customer
    created: bool
    # Kinds of the identities attached to an existing customer by this call.
    attached: list[str] = field(default_factory=list)


@transaction.atomic
def customer_resolve_or_create(
    *,
    shop: Shop,
    data: CustomerInput,
    identities: Iterable[tuple[str, str]] = (),
    created_via: str = CreatedVia.STAFF,
) -> Identified:
    """The known customer with any of these identities (phone, e-mail and ``identities``),
    with the new ones attached; or a new customer created from ``data`` with all of them.

    An existing customer is otherwise returned unchanged. Raises ``IdentityConflict`` (and
    attaches nothing) when the identities belong to different customers."""
    identities = list(identities)
    found = customer_resolve(
        shop=shop, phone=data.phone or None, email=data.email or None, identities=identities
    )
    if found.conflicts:
        # Raised inside this transaction: the identities attached by the look-up roll back.
        assert found.customer is not None
        raise IdentityConflict(customer_ids=sorted({found.customer.pk, *found.conflicts}))
    if found.customer is not None:
        return Identified(customer=found.customer, created=False, attached=found.attached)
    customer = customer_create(shop=shop, data=data, created_via=created_via)
    if identities:
        # The phone, stored with the new customer, finds it: the other identities attach.
        customer_resolve(shop=shop, phone=customer.phone, identities=identities)
    return Identified(customer=customer, created=True)
