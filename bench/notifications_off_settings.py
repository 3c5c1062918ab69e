"""Settings for the "notifications truly off" storm of ``bench/notifications.py``: opsportal.settings with
the Slack, PagerDuty and email apps installed (tables, URLs, migrations unchanged) but not registering
their message channels, so the outbox finds no channel and writes nothing, not even preview rows.
This is the baseline the outbox's cost is measured against; the app itself has no such switch.
"""

from __future__ import annotations

from django.apps import AppConfig

from incidents.integrations.email.apps import EmailConfig
from incidents.integrations.pagerduty.apps import PagerDutyConfig
from incidents.integrations.slack.apps import SlackConfig
from opsportal.settings import *  # noqa: F403 - the app's settings, unchanged but for the apps below
from opsportal.settings import INSTALLED_APPS as _APPS


class _Quiet(AppConfig):
    def ready(self) -> None:
        """Installed, but no message channel is registered."""


class QuietSlack(_Quiet, SlackConfig):
    pass


class QuietPagerDuty(_Quiet, PagerDutyConfig):
    pass


class QuietEmail(_Quiet, EmailConfig):
    pass


_QUIET = {
    "incidents.integrations.slack": f"{__name__}.QuietSlack",
    "incidents.integrations.pagerduty": f"{__name__}.QuietPagerDuty",
    "incidents.integrations.email": f"{__name__}.QuietEmail",
}
INSTALLED_APPS = [_QUIET.get(app, app) for app in _APPS]
