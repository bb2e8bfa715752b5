"""The merge page's routes; included into the web namespace by dangol.web.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from dangol.web import merge_views as mv

urlpatterns: list[URLPattern] = [
    path("customers/merges/", mv.merges, name="merges"),
    path("customers/merges/merge/", mv.merge_confirm, name="merge_confirm"),
    path("customers/merges/not-the-same/", mv.merge_dismiss, name="merge_dismiss"),
    path("customers/merges/<int:merge_id>/undo/", mv.merge_undo, name="merge_undo"),
]
