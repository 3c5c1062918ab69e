from django.apps import AppConfig


class AlertmanagerConfig(AppConfig):
    """Prometheus Alertmanager: webhook ingestion, grouping, maintenance windows, silences."""

    name = "incidents.integrations.alertmanager"
    label = "alertmanager"
    verbose_name = "Alertmanager"
    default_auto_field = "django.db.models.BigAutoField"
