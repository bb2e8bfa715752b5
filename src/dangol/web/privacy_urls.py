"""Pages of data-subject requests and retention; included into the web namespace by
dangol.web.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from dangol.web import privacy_views as v

urlpatterns: list[URLPattern] = [
    path("privacy/requests/", v.privacy_requests, name="privacy_requests"),
    path("privacy/requests/<int:request_id>/", v.privacy_request, name="privacy_request"),
    path(
        "privacy/requests/<int:request_id>/access/",
        v.privacy_request_access,
        name="privacy_request_access",
    ),
    path(
        "privacy/requests/<int:request_id>/correct/",
        v.privacy_request_correct,
        name="privacy_request_correct",
    ),
    path(
        "privacy/requests/<int:request_id>/stop/",
        v.privacy_request_stop,
        name="privacy_request_stop",
    ),
    path(
        "privacy/requests/<int:request_id>/erase/",
        v.privacy_request_erase,
        name="privacy_request_erase",
    ),
    path(
        "privacy/requests/<int:request_id>/refuse/",
        v.privacy_request_refuse,
        name="privacy_request_refuse",
    ),
    path("privacy/retention/", v.privacy_retention, name="privacy_retention"),
]
