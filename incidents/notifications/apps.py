from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The outbox, message templates and routing for every outgoing message."""

    name = "incidents.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opsportal.lib import memo
        from opsportal.lib.metrics import register_collector

        from . import panels
        from .metrics import OutboxBacklogCollector
        from .models import MessageTemplate, Route

        register_collector(OutboxBacklogCollector())
        panels.register()
        memo.forget_config_on_change(Route, Route.severities.through, MessageTemplate)
