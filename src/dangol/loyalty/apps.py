from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "dangol.loyalty"
    label = "loyalty"
    verbose_name = "적립·쿠폰 / Loyalty"
