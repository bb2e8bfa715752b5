from django.contrib import admin

from dangol.core.admin import ReadOnlyScopedAdmin
from dangol.scoring.models import CustomerScore, ScoringRun


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyScopedAdmin):
    list_display = ("as_of", "status", "customers_scored", "model_version", "finished_at")
    list_filter = ("status",)


@admin.register(CustomerScore)
class CustomerScoreAdmin(ReadOnlyScopedAdmin):
    list_display = ("customer_id", "status", "churn_probability", "value_at_risk", "computed_at")
    list_filter = ("status", "rfm_segment")
    raw_id_fields = ("customer", "run")
