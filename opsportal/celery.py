"""The Celery app. Tasks stay thin: they call service functions."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.beat import PersistentScheduler
from celery.signals import task_postrun, task_prerun, worker_process_init
from django.db import close_old_connections

from opsportal.lib import heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

app = Celery("opsportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_expired_connections(sender: Task[Any, Any] | None = None, **kwargs: Any) -> None:
    """Between tasks, close database connections past DB_CONN_MAX_AGE or broken (the database
    restarted), as Django does between requests; the others are reused (settings:
    CELERY_DB_REUSE_MAX). Not for a task run eagerly: it runs inside its caller's transaction."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()


@worker_process_init.connect
def warm_pool_process(**kwargs: Any) -> None:
    """Each pool process builds what its first message needs before it takes a task."""
    from opsportal.warmup import warm_up

    warm_up(sending=True)


@app.task(name="opsportal.ping", ignore_result=True)
def ping() -> None:
    """Beat sends this every SLA_TICK_SECONDS. Running it proves a worker takes tasks from the broker,
    so it records the worker heartbeat /health reports."""
    heartbeat.beat("worker")


class HeartbeatScheduler(PersistentScheduler):
    """Celery beat that also runs the database timers in this process (opsportal/timers.py), so they
    never wait for the broker, and records the scheduler heartbeat after each round of them."""

    def setup_schedule(self) -> None:
        # Beat loads this module before Django is set up: Django (and what needs its settings)
        # is imported only once beat starts, in this process.
        import django

        django.setup()
        super().setup_schedule()
        from django.conf import settings

        from opsportal.timers import start_sweeps

        start_sweeps(settings.SCHEDULER_SWEEPS)
