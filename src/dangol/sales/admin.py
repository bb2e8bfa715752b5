from django.contrib import admin

from dangol.core.admin import ReadOnlyScopedAdmin
from dangol.sales.models import Product, Purchase


@admin.register(Product)
class ProductAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "category", "price", "unit_cost", "active")
    list_filter = ("category", "active")


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyScopedAdmin):
    list_display = ("external_id", "store", "customer_id", "occurred_at", "total", "status")
    list_filter = ("status", "source")
    date_hierarchy = "occurred_at"
