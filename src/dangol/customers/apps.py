from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "dangol.customers"
    label = "customers"
    verbose_name = "고객 / Customers"
