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


_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9,))


class SegmentForm(forms.Form):
    """The segment's name and description; the rows of the rule are read by segment_rules."""

    name = forms.CharField(label=_("Name"), max_length=80)
    description = forms.CharField(label=_("One-line description"), max_length=200, required=False)
    match = forms.ChoiceField(
        label=_("Customers who meet"),
        choices=[("all", _("all of the conditions")), ("any", _("any of the conditions"))],
        initial="all",
        widget=forms.RadioSelect,
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].translate(_CONTROL).strip()
        if not name:
            raise forms.ValidationError(_("Enter a name."))
        return name

    def clean_description(self) -> str:
        return self.cleaned_data["description"].translate(_CONTROL).strip()


EXPORT_REASONS = [
    ("", _("Choose a reason")),
    ("messaging", _("Preparing a text message")),
    ("analysis", _("Analysis")),
    ("other", _("Other")),
]


class SegmentExportForm(forms.Form):
    """Why the list leaves Dangol; recorded with who took it."""

    reason = forms.ChoiceField(label=_("Reason for the download"), choices=EXPORT_REASONS)
    note = forms.CharField(label=_("Details"), max_length=200, required=False)

    def clean_note(self) -> str:
        return self.cleaned_data["note"].translate(_CONTROL).strip()

    def clean(self) -> dict:
        data = super().clean()
        if data.get("reason") == "other" and not data.get("note"):
            self.add_error("note", _("Say briefly why you need the list."))
        return data
