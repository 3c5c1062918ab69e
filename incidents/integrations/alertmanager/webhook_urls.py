"""Mounted at ``hooks/`` by opsportal/urls.py: the receiver URL is ``/hooks/alertmanager``."""

from __future__ import annotations

from django.urls import path

from .webhook import alertmanager_webhook

urlpatterns = [
    path("alertmanager", alertmanager_webhook, name="alertmanager-webhook"),
    # A trailing slash in a hand-written receiver URL must not turn into a redirect (Alertmanager
    # does not follow redirects for POST).
    path("alertmanager/", alertmanager_webhook),
]
