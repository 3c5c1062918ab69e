from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opsportal.lib import memo
        from opsportal.lib.metrics import register_collector

        from .metrics import OpenIncidentsCollector
        from .models import Severity

        register_collector(OpenIncidentsCollector())
        memo.forget_config_on_change(Severity)
