from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "dangol.privacy"
    label = "privacy"
    verbose_name = "개인정보 / Privacy"
