"""The project package as an app, so its system checks (opsportal/checks.py) are registered."""

from __future__ import annotations

from django.apps import AppConfig


class OpsportalConfig(AppConfig):
    name = "opsportal"
    verbose_name = "Opsportal"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the checks
