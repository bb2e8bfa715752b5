"""Owner pages of this app; included into the web namespace by dangol.web.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from dangol.web import import_views as imp

urlpatterns: list[URLPattern] = [
    path("imports/", imp.import_start, name="import_start"),
    path("imports/<int:run_id>/", imp.import_mapping, name="import_mapping"),
    path("imports/<int:run_id>/preview/", imp.import_preview_part, name="import_preview"),
    path("imports/<int:run_id>/check/", imp.import_check, name="import_check"),
    path("imports/<int:run_id>/report.csv", imp.import_report_csv, name="import_report_csv"),
    path("imports/<int:run_id>/import/", imp.import_apply, name="import_apply"),
    path("imports/<int:run_id>/result/", imp.import_result, name="import_result"),
]
