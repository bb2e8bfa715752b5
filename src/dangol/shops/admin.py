from django.contrib import admin

from dangol.core.admin import ReadOnlyScopedAdmin
from dangol.shops.models import Membership, Shop, Store


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "category", "created_at")
    search_fields = ("name", "slug")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.none()


@admin.register(Store)
class StoreAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "code", "shop")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyScopedAdmin):
    list_display = ("user", "shop", "role", "store")
