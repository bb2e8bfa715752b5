"""Forms of the loyalty owner pages. They only shape the input; every rule is in the services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from dangol.loyalty.models import RELATIVE_DAYS, CouponKind, StampMode

_CONTROL = dict.fromkeys(range(32))

VALID_DAYS_CHOICES = [
    (str(d), _("The same day") if d == 0 else format_lazy(_("{n} days"), n=d))
    for d in RELATIVE_DAYS
]


class PolicyForm(forms.Form):
    earn_rate = forms.DecimalField(
        label=_("Points per 100 KRW paid (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("50"),
        decimal_places=2,
        initial=Decimal("0"),
    )
    points_per_visit = forms.IntegerField(
        label=_("Points per visit"), min_value=0, max_value=100_000, initial=0
    )
    min_amount = forms.IntegerField(
        label=_("Minimum purchase (KRW)"), min_value=0, max_value=10**9, initial=0
    )
    validity_months = forms.IntegerField(
        label=_("Points valid for (months)"), min_value=1, max_value=120, initial=12
    )

    def earn_rate_bp(self) -> int:
        return int(self.cleaned_data["earn_rate"] * 100)


class StampCardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    stamps_required = forms.IntegerField(label=_("Stamps for a reward"), min_value=2, max_value=50)
    mode = forms.ChoiceField(label=_("A stamp per"), choices=StampMode.choices)
    min_amount = forms.IntegerField(
        label=_("Minimum purchase (KRW)"), min_value=0, max_value=10**9, initial=0
    )
    reward = forms.TypedChoiceField(label=_("Reward coupon"), coerce=int, choices=())

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reward"].choices = [(t.pk, t.name) for t in templates]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].translate(_CONTROL).strip()


class CouponTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=CouponKind.choices)
    value = forms.IntegerField(
        label=_("Value (percent, or KRW)"), min_value=0, max_value=10_000_000, initial=0
    )
    max_discount = forms.IntegerField(
        label=_("Maximum discount (KRW, 0: none)"), min_value=0, max_value=10**9, initial=0
    )
    product = forms.TypedChoiceField(
        label=_("Product (free item, size-up)"), coerce=int, required=False, empty_value=None
    )
    min_spend = forms.IntegerField(
        label=_("Minimum spend (KRW)"), min_value=0, max_value=10**9, initial=0
    )
    valid_days = forms.TypedChoiceField(
        label=_("Valid for"), coerce=int, choices=VALID_DAYS_CHOICES, initial="30"
    )
    per_customer_limit = forms.IntegerField(
        label=_("Limit per customer (0: none)"), min_value=0, max_value=1000, initial=0
    )

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "—")] + [(p.pk, p.name) for p in products]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].translate(_CONTROL).strip()


class ReferralProgramForm(forms.Form):
    active = forms.BooleanField(label=_("Referrals on"), required=False)
    referrer_points = forms.IntegerField(
        label=_("Points for the referrer"), min_value=0, max_value=1_000_000, initial=0
    )
    referrer_coupon = forms.TypedChoiceField(
        label=_("Coupon for the referrer"), coerce=int, required=False, empty_value=None
    )
    referee_points = forms.IntegerField(
        label=_("Points for the new customer"), min_value=0, max_value=1_000_000, initial=0
    )
    referee_coupon = forms.TypedChoiceField(
        label=_("Coupon for the new customer"), coerce=int, required=False, empty_value=None
    )
    daily_limit = forms.IntegerField(
        label=_("Referrals a day before the owner reviews"), min_value=1, max_value=1000, initial=5
    )

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(t.pk, t.name) for t in templates]
        self.fields["referrer_coupon"].choices = choices
        self.fields["referee_coupon"].choices = choices


class RedeemForm(forms.Form):
    code = forms.CharField(label=_("Coupon code"), max_length=40)
    amount = forms.IntegerField(
        label=_("Purchase amount (KRW, if the coupon needs it)"),
        min_value=0,
        max_value=10**10,
        required=False,
    )
