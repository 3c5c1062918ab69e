from django.apps import AppConfig


class RunbooksConfig(AppConfig):
    """Runbooks attached to incidents (docs/architecture.md section 7); built in a later issue."""

    name = "runbooks"
    default_auto_field = "django.db.models.BigAutoField"
