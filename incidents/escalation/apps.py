from __future__ import annotations

from django.apps import AppConfig


class EscalationConfig(AppConfig):
    """Escalation policies and the engine (docs/escalation.md)."""

    name = "incidents.escalation"
    label = "escalation"
    verbose_name = "Escalation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opsportal.lib import memo

        from . import demo, panels
        from .models import EscalationPolicy

        panels.register()
        demo.register()
        memo.forget_config_on_change(EscalationPolicy)
