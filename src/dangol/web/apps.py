from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dangol.web"
    label = "web"
