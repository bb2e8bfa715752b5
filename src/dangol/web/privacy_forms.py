"""Forms of the privacy pages: entering a request, a correction, a refusal, the retention
policy."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dangol.privacy.models import RequestKind


class RequestForm(forms.Form):
    phone = forms.CharField(label=_("Customer's phone"), max_length=30, required=False)
    customer_id = forms.IntegerField(label=_("or customer number"), required=False, min_value=1)
    kind = forms.ChoiceField(label=_("Request"), choices=RequestKind.choices)
    notes = forms.CharField(
        label=_("How the request came in and how identity was checked"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("customer_id"):
            raise forms.ValidationError(_("Enter the customer's phone or number."))
        return data


class CorrectionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for refusal (told to the customer)"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand the personal data is destroyed and cannot be restored."),
        required=True,
    )


class RetentionForm(forms.Form):
    inactive_years = forms.IntegerField(
        label=_("Delete customers inactive for (years)"),
        required=False,
        min_value=1,
        max_value=50,
        help_text=_("Leave empty to keep customers until they ask (the policy is off)."),
    )
