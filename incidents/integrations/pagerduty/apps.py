from django.apps import AppConfig


class PagerDutyConfig(AppConfig):
    """PagerDuty: the "pagerduty" message channel and the ``/hooks/pagerduty`` v3 webhook."""

    name = "incidents.integrations.pagerduty"
    label = "pagerduty"
    verbose_name = "PagerDuty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from incidents.registry import registry

        from .channel import channel

        registry.add_message_channel(channel)
