from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "dangol.loyalty"
    label = "loyalty"
    verbose_name = "적립·쿠폰 / Loyalty"

    def ready(self) -> None:
        # Points, stamps and tier conditions join the segment registry without touching it.
        from dangol.loyalty.conditions import register_all

        register_all()
