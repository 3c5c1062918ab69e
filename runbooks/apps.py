from django.apps import AppConfig


class RunbooksConfig(AppConfig):
    """Runbooks attached to incidents (docs/runbooks.md): registers the run panel on the incident
    page, the navigation entry, demo data and the incident-opened hook of auto-start triggers."""

    name = "runbooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opsportal.lib import memo

        from . import panels
        from .models import Runbook, Trigger

        panels.register()
        memo.forget_config_on_change(Runbook, Trigger)
