from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dangol.core"
    label = "core"
