"""A staff-edited title template that renders too much is refused at save, and a row that holds one
anyway (saved before the limits) is bounded at webhook time: the incident gets the default title."""

from __future__ import annotations

import pytest
from django.test import Client

from incidents.integrations.alertmanager.models import Integration
from incidents.models import Incident

from .test_admin import integration_form
from .webhook_support import alert, make_hook, payload

pytestmark = pytest.mark.django_db

HOSTILE = [
    "{{ 'x' * 500000000 }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_the_admin_refuses_a_template_that_renders_too_much(admin_client: Client, source: str) -> None:  # noqa: F811
    response = admin_client.post("/admin/alertmanager/integration/add/", integration_form(title_template=source))

    assert response.status_code == 200
    assert "TEMPLATE_MAX_" in response.content.decode()
    assert not Integration.objects.exists()


def test_a_template_that_loops_over_every_alert_pair_is_bounded_at_webhook_time(settings) -> None:
    """Passes the save-time check (one sample alert), explodes on a real post of many alerts."""
    settings.TEMPLATE_MAX_ITERATIONS = 10_000
    hook = make_hook(title_template="{% for a in alerts %}{% for b in alerts %}{% endfor %}{% endfor %}boom")

    response = hook.post(payload([alert(f"web-{i}") for i in range(200)]))

    assert response.status_code == 200
    assert Incident.objects.get().title != "boom"  # the default title, not the runaway template
