from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dangol.audit"
    label = "audit"
    verbose_name = "접속기록 / Audit log"
