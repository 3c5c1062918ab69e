from django.apps import AppConfig


class EmailConfig(AppConfig):
    """Email: the "email" message channel over Django's mail backend."""

    name = "incidents.integrations.email"
    label = "email"
    verbose_name = "Email"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from incidents.registry import registry

        from .channel import channel

        registry.add_message_channel(channel)
