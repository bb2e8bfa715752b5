from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "dangol.automations"
    label = "automations"
    verbose_name = "자동화 / Automations"
