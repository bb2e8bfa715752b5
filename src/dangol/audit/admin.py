from django.contrib import admin

from dangol.audit.models import AuditEvent
from dangol.core.admin import ReadOnlyScopedAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyScopedAdmin):
    list_display = ("at", "username", "action", "object_type", "object_id", "customer_id", "rows")
    list_filter = ("action", "object_type")
    date_hierarchy = "at"
