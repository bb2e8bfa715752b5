"""Admin base classes: the back office sees only its own shop unless it is the platform admin."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


class ShopScopedAdmin(admin.ModelAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = self.model.unscoped.get_queryset()
        if request.user.is_superuser:
            return qs
        shop = getattr(request, "shop", None)
        return qs.filter(shop=shop) if shop is not None else qs.none()

    def _is_member(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or getattr(request, "shop", None) is not None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_member(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        if not self._is_member(request):
            return False
        return obj is None or request.user.is_superuser or obj.shop_id == request.shop.pk


class ReadOnlyScopedAdmin(ShopScopedAdmin):
    """For rows that only services may write (ledgers, encrypted profiles)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
