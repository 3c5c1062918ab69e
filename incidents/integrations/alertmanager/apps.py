from django.apps import AppConfig


class AlertmanagerConfig(AppConfig):
    """Prometheus Alertmanager: webhook ingestion, grouping, maintenance windows, silences."""

    name = "incidents.integrations.alertmanager"
    label = "alertmanager"
    verbose_name = "Alertmanager"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from incidents.registry import registry

        from . import demo, panels

        panels.register()
        registry.add_demo_seeder(demo.seed_demo, order=10)
