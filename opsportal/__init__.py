"""Project wiring. The Celery app is exposed here so `celery -A opsportal` finds it."""

from .celery import app as celery_app

__all__ = ("celery_app",)
