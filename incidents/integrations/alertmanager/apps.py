from django.apps import AppConfig


class AlertmanagerConfig(AppConfig):
    """Prometheus Alertmanager: webhook ingestion, grouping, maintenance windows, silences."""

    name = "incidents.integrations.alertmanager"
    label = "alertmanager"
    verbose_name = "Alertmanager"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from incidents.registry import registry
        from opsportal.lib import memo

        from . import demo, panels
        from .models import Integration, MaintenanceWindow

        panels.register()
        memo.forget_config_on_change(MaintenanceWindow, Integration)
        registry.add_demo_seeder(demo.seed_demo, order=10)
