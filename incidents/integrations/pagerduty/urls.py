"""Mounted at ``hooks/`` by opsportal/urls.py: the webhook URL is ``/hooks/pagerduty``."""

from __future__ import annotations

from django.urls import path

from .webhook import pagerduty_webhook

urlpatterns = [
    path("pagerduty", pagerduty_webhook, name="pagerduty-webhook"),
    # A trailing slash typed into the subscription must not become a redirect (the POST would be lost).
    path("pagerduty/", pagerduty_webhook),
]
