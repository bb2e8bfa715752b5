from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "dangol.integrations"
    label = "integrations"
    verbose_name = "연동 / Integrations"
