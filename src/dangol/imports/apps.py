from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "dangol.imports"
    label = "imports"
    verbose_name = "가져오기 / Imports"
