from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "dangol.sales"
    label = "sales"
    verbose_name = "매출 / Sales"
