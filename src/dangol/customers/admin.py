from django.contrib import admin

from dangol.core.admin import ReadOnlyScopedAdmin
from dangol.core.phone import mask_phone
from dangol.customers.models import ConsentEvent, Customer


@admin.register(Customer)
class CustomerAdmin(ReadOnlyScopedAdmin):
    list_display = ("pk", "name", "masked_phone", "created_via", "created_at")
    exclude = ("phone_bidx", "email_bidx", "search_tokens", "phone")
    readonly_fields = ("masked_phone",)

    @admin.display(description="phone")
    def masked_phone(self, obj: Customer) -> str:
        return mask_phone(obj.phone)


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyScopedAdmin):
    list_display = ("customer_id", "kind", "granted", "source", "occurred_at")
    list_filter = ("kind", "granted", "source")
