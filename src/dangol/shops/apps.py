from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "dangol.shops"
    label = "shops"
    verbose_name = "매장 / Shops"
