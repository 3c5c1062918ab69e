"""The Celery app. Tasks stay thin: they call service functions."""

from __future__ import annotations

import os

from celery import Celery
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

app = Celery("opsportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class HeartbeatScheduler(PersistentScheduler):
    """Celery beat that records its own ticks, so /health can tell a dead scheduler from a quiet one."""

    def setup_schedule(self) -> None:
        import django

        django.setup()
        super().setup_schedule()

    def tick(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from opsportal.lib import heartbeat

        heartbeat.beat("scheduler")
        return super().tick(*args, **kwargs)
