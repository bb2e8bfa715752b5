from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Schema

from dangol.core.phone import mask_phone
from dangol.customers.selectors import customer_get
from dangol.sales.selectors import customer_stats

router = Router(tags=["customers"])


class CustomerOut(Schema):
    id: int
    name: str
    phone_masked: str
    visits: int


def _shop(request: HttpRequest):
    shop = getattr(request, "shop", None)
    if shop is None:
        raise PermissionDenied
    return shop


@router.get("/{customer_id}", response=CustomerOut)
def customer_detail(request: HttpRequest, customer_id: int):
    shop = _shop(request)
    customer = customer_get(shop=shop, customer_id=customer_id)
    return CustomerOut(
        id=customer.pk,
        name=customer.name,
        phone_masked=mask_phone(customer.phone),
        visits=customer_stats(shop=shop, customer=customer).visits,
    )
