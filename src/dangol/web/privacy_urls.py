"""Pages of data-subject requests and retention; included into the web namespace by
dangol.web.urls."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
