"""The owner's form for a new outgoing webhook."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dangol.integrations.models import EventType


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=_("Receiver URL (https://…)"),
        max_length=500,
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events to send"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=_("Note (optional)"), max_length=80, required=False)
