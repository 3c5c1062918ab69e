from django.apps import AppConfig


class SlackConfig(AppConfig):
    """Slack: registers the "slack" message channel with the core's registry."""

    name = "incidents.integrations.slack"
    label = "slack"
    verbose_name = "Slack"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import channel

        channel.register()
