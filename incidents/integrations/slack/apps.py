from django.apps import AppConfig


class SlackConfig(AppConfig):
    """Slack: registers the "slack" message channel with the core's registry."""

    name = "incidents.integrations.slack"
    label = "slack"
    verbose_name = "Slack"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tasks are registered here, so the hooks can hand work to them by name
        # (``interactions`` and ``invites`` enqueue without importing the tasks that call them).
        from . import channel, tasks  # noqa: F401

        channel.register()
