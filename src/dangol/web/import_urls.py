"""Owner pages of this app; included into the web namespace by dangol.web.urls."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
