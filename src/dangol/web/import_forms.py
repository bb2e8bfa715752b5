"""The import wizard's upload form, and the upload handler that stops reading a file past the
wizard's size limit (the rest of the request is skipped, never kept in memory or on disk)."""

from __future__ import annotations

from django import forms
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext_lazy as _

from dangol.imports.models import ImportKind
from dangol.imports.services import MAX_UPLOAD_BYTES
from dangol.web.import_display import preset_choices

ACCEPT = ".csv,.txt,.tsv,.xlsx,.xls"
MAX_MB = MAX_UPLOAD_BYTES // 1024 // 1024


class UploadLimit(FileUploadHandler):
    """First in the chain: passes chunks on until a file grows past ``limit`` bytes."""

    def __init__(self, request=None, limit: int = MAX_UPLOAD_BYTES) -> None:
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=ImportKind.choices,
        initial=ImportKind.CUSTOMERS,
        widget=forms.RadioSelect,
    )
    preset = forms.ChoiceField(
        label=_("Delivery-app order list"),
        required=False,
        choices=[],
    )
    file = forms.FileField(
        label=_("File (CSV or Excel)"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages={
            "required": _("Choose a file to upload."),
            "empty": _("The file is empty."),
        },
    )

    def __init__(self, *args, too_large: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.fields["preset"].choices = [("", _("No, my own file")), *preset_choices()]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is not None and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(self.size_message())
        return upload

    def clean(self):
        data = super().clean()
        if data.get("preset") and data.get("kind") != ImportKind.PURCHASES:
            self.add_error(
                "preset",
                _("Delivery-app order lists are purchases: choose Purchases above."),
            )
        return data

    def full_clean(self) -> None:
        super().full_clean()
        if self.too_large:
            self.errors.pop("file", None)
            self.add_error("file", self.size_message())

    @staticmethod
    def size_message() -> str:
        return _(
            "The file is larger than %(mb)s MB. Split it, or ask for the command-line import."
        ) % {"mb": MAX_MB}
