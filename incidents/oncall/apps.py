from django.apps import AppConfig


class OncallConfig(AppConfig):
    """On-call schedules and contact methods: a core subpackage, registered like an integration."""

    name = "incidents.oncall"
    label = "oncall"
    verbose_name = "On-call"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import demo, panels

        panels.register()
        demo.register()
