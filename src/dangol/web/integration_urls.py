"""Owner pages of outgoing webhooks; included into the web namespace by dangol.web.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from dangol.web import integration_views as views

urlpatterns: list[URLPattern] = [
    path("settings/webhooks/", views.webhooks, name="webhooks"),
    path("settings/webhooks/<int:subscription_id>/", views.webhook_detail, name="webhook"),
    path(
        "settings/webhooks/<int:subscription_id>/off/",
        views.webhook_deactivate,
        name="webhook_deactivate",
    ),
    path("settings/webhooks/<int:subscription_id>/test/", views.webhook_test, name="webhook_test"),
]
