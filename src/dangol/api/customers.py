from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Schema

from dangol.audit.models import AuditAction
from dangol.audit.requests import audit_for_request
from dangol.core.phone import mask_phone
from dangol.customers.selectors import customer_get
from dangol.sales.selectors import customer_stats
from dangol.scoring.selectors import customer_score_get

router = Router(tags=["customers"])


class ReasonOut(Schema):
    key: str
    ko: str
    en: str


class ScoreOut(Schema):
    status: str
    churn_probability: float
    p_alive: float
    expected_visits_90d: float
    expected_next_visit: dt.date | None
    clv: int
    value_at_risk: int
    rfm_segment: str
    reasons: list[ReasonOut]
    action_ko: str
    action_en: str
    computed_at: dt.datetime
    model_version: str


class CustomerOut(Schema):
    id: int
    name: str
    phone_masked: str
    visits: int
    score: ScoreOut | None = None


def _shop(request: HttpRequest):
    shop = getattr(request, "shop", None)
    if shop is None:
        raise PermissionDenied
    return shop


@router.get("/{customer_id}", response=CustomerOut)
def customer_detail(request: HttpRequest, customer_id: int):
    shop = _shop(request)
    customer = customer_get(shop=shop, customer_id=customer_id)
    audit_for_request(
        request,
        action=AuditAction.VIEW,
        object_type="customer",
        object_id=customer.pk,
        customer_id=customer.pk,
    )
    return CustomerOut(
        id=customer.pk,
        name=customer.name,
        phone_masked=mask_phone(customer.phone),
        visits=customer_stats(shop=shop, customer=customer).visits,
        score=customer_score_get(shop=shop, customer=customer),
    )
