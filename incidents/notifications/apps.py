from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The outbox, message templates and routing for every outgoing message."""

    name = "incidents.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opsportal.lib.metrics import register_collector

        from . import panels
        from .metrics import OutboxBacklogCollector

        register_collector(OutboxBacklogCollector())
        panels.register()
