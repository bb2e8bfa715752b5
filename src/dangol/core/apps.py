from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dangol.core"
    label = "core"

    def ready(self) -> None:
        from dangol.core import checks  # noqa: F401  (registers the deployment checks)
