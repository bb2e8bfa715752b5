from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from dangol.core.phone import InvalidPhone, normalize_phone
from dangol.customers.models import BirthdayCalendar, Gender
from dangol.scoring.models import CustomerStatus
from dangol.scoring.selectors import WINNABLE_FILTER


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("ID"), widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )


STATUS_FILTERS = [
    ("", _("All")),
    (WINNABLE_FILTER, _("Contact now")),
    *CustomerStatus.choices,
]


class CustomerSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=40, label=_("Search"))
    status = forms.ChoiceField(required=False, choices=STATUS_FILTERS, label=_("Status"))


class CustomerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=20)
    email = forms.EmailField(label=_("E-mail"), required=False)
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    birthday_calendar = forms.ChoiceField(
        label=_("Calendar"), choices=BirthdayCalendar.choices, initial=BirthdayCalendar.SOLAR
    )
    birthday_leap_month = forms.BooleanField(label=_("Leap month"), required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(
                _("Enter a valid phone number, e.g. 010-1234-5678.")
            ) from exc

    def clean(self) -> dict:
        data = super().clean()
        if data.get("birthday_leap_month") and data.get("birthday_calendar") != "lunar":
            self.add_error("birthday_leap_month", _("Only lunar birthdays have leap months."))
        return data
