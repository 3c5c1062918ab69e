"""A storm is thousands of posts: each one costs a small, fixed number of statements, however many
routes, templates and events it touches (docs/architecture.md section 10)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings

from incidents.notifications.models import Route

from .webhook_support import Hook, alert, payload

pytestmark = pytest.mark.django_db

SLACK = {"SLACK_BOT_TOKEN": "xoxb-cost", "SLACK_DEFAULT_CHANNEL": "C0COST", "CONFIG_CACHE_SECONDS": 60}


def _group(name: str, alerts: int) -> dict[str, object]:
    return payload([alert(f"{name}-{i}", alertname=name) for i in range(alerts)],
                   group_key=f'{{}}:{{alertname="{name}"}}')


@override_settings(**SLACK)
@pytest.mark.parametrize("pool", ["web", "hooks"])
def test_an_opening_post_and_its_repeat_cost_a_fixed_number_of_statements(
    hook: Hook, django_assert_max_num_queries, pool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if pool == "hooks" and connection.vendor == "postgresql":
        # The hooks pool's connections start with the webhook's lock_timeout: no statement per post.
        options = connection.settings_dict.setdefault("OPTIONS", {})
        monkeypatch.setitem(options, "options", f"{options.get('options', '')} -c lock_timeout=15000ms")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '15000ms'")  # undone with the test's transaction
    saved = 1 if pool == "hooks" and connection.vendor == "postgresql" else 0
    Route.objects.create(channel="slack", target="C0ROUTED")
    hook.post(_group("Warm", 3))  # the process reads its configuration once
    hook.post(_group("Warm", 4))  # ...and the templates of an "alerts" event

    # Counted as a live post counts them (BEGIN/COMMIT are SAVEPOINT/RELEASE inside the test's transaction).
    with django_assert_max_num_queries(13 - saved):
        assert hook.post(_group("Fresh", 1)).json()["action"] == "opened"
    with django_assert_max_num_queries(13 - saved):
        assert hook.post(_group("Wider", 50)).json()["action"] == "opened"
    with django_assert_max_num_queries(7 - saved):
        assert hook.post(_group("Wider", 50)).json()["action"] == "unchanged"
    with django_assert_max_num_queries(12 - saved):  # 10 alerts join: one "alerts" event, its deliveries
        assert hook.post(_group("Wider", 60)).json()["action"] == "updated"
