"""Pages of the counter check-in tablet and the customer's own page; included into the web
namespace by dangol.web.urls."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
