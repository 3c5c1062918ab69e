from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opsportal.lib.metrics import register_collector

        from .metrics import OpenIncidentsCollector

        register_collector(OpenIncidentsCollector())
