"""A storm is thousands of posts: each one costs a small, fixed number of statements, however many
routes, templates and events it touches (docs/architecture.md section 10)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from incidents.notifications.models import Route

from .webhook_support import Hook, alert, payload

pytestmark = pytest.mark.django_db

SLACK = {"SLACK_BOT_TOKEN": "xoxb-cost", "SLACK_DEFAULT_CHANNEL": "C0COST", "CONFIG_CACHE_SECONDS": 60}


def _group(name: str, alerts: int) -> dict[str, object]:
    return payload([alert(f"{name}-{i}", alertname=name) for i in range(alerts)],
                   group_key=f'{{}}:{{alertname="{name}"}}')


@override_settings(**SLACK)
def test_an_opening_post_and_its_repeat_cost_a_fixed_number_of_statements(
    hook: Hook, django_assert_max_num_queries
) -> None:
    Route.objects.create(channel="slack", target="C0ROUTED")
    hook.post(_group("Warm", 3))  # the process reads its configuration once

    with django_assert_max_num_queries(13):
        assert hook.post(_group("Fresh", 1)).json()["action"] == "opened"
    with django_assert_max_num_queries(13):
        assert hook.post(_group("Wider", 50)).json()["action"] == "opened"
    with django_assert_max_num_queries(8):
        assert hook.post(_group("Wider", 50)).json()["action"] == "unchanged"
