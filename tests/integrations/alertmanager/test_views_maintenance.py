"""Maintenance window pages and the dashboard banner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.integrations.alertmanager.models import (
    MaintenanceWindow,
)

pytestmark = pytest.mark.django_db

WEBHOOK = "http://127.0.0.1:8001/hooks/alertmanager"  # settings.PUBLIC_HOOKS_URL default (the hooks pool) + the path

# --- maintenance windows ----------------------------------------------------------------------------


def window_form(**overrides: str) -> dict[str, str]:
    start = timezone.now() + timedelta(days=2)
    data = {
        "name": "Postgres upgrade",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "integration": "",
        "matchers": "service=checkout\nalertname=~Disk.*",
        "comment": "CHG-1234",
    }
    data.update(overrides)
    return data


def test_it_schedules_a_maintenance_window_ahead(staff_client: Client) -> None:
    response = staff_client.post(reverse("alertmanager:maintenance"), window_form(), follow=True)

    window = MaintenanceWindow.objects.get()
    assert window.matchers == [
        {"name": "service", "value": "checkout", "is_regex": False, "is_equal": True},
        {"name": "alertname", "value": "Disk.*", "is_regex": True, "is_equal": True},
    ]
    assert window.integration is None and window.comment == "CHG-1234"
    assert response.context["overview"].upcoming == [window]
    assert "service=checkout, alertname=~Disk.*" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"ends_at": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")},
            "must end after it starts",
        ),
        ({"matchers": "service=checkout\nservice checkout"}, "Line 2 “service checkout” is not a matcher"),
        ({"matchers": "alertname=~Disk(["}, "is not a valid regular expression"),
        ({"matchers": "1service=checkout"}, "“1service” is not a label name"),
        ({"starts_at": "tomorrow"}, "Enter a valid date/time."),
    ],
)
def test_it_shows_maintenance_form_errors_inline(
    staff_client: Client, overrides: dict[str, str], message: str
) -> None:
    response = staff_client.post(reverse("alertmanager:maintenance"), window_form(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_it_ends_an_active_window_now_and_cancels_an_upcoming_one(staff_client: Client) -> None:
    now = timezone.now()
    active = MaintenanceWindow.objects.create(
        name="active", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    upcoming = MaintenanceWindow.objects.create(
        name="upcoming", starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2)
    )

    staff_client.post(reverse("alertmanager:maintenance-end", args=[active.pk]))
    staff_client.post(reverse("alertmanager:maintenance-delete", args=[upcoming.pk]))

    active.refresh_from_db()
    assert active.ends_at <= timezone.now()
    assert not MaintenanceWindow.objects.filter(pk=upcoming.pk).exists()


def test_it_shows_the_maintenance_page_read_only_to_responders(responder_client: Client) -> None:
    response = responder_client.get(reverse("alertmanager:maintenance"))

    assert response.status_code == 200
    assert response.context["form"] is None
    assert "Schedule a window" not in response.content.decode()


def test_it_shows_active_and_next_day_windows_on_the_dashboard(responder_client: Client) -> None:
    now = timezone.now()
    MaintenanceWindow.objects.create(
        name="Kernel patching",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        matchers=[{"name": "service", "value": "checkout", "is_regex": False, "is_equal": True}],
    )
    MaintenanceWindow.objects.create(
        name="DB failover drill", starts_at=now + timedelta(hours=3), ends_at=now + timedelta(hours=4)
    )
    MaintenanceWindow.objects.create(
        name="Next week", starts_at=now + timedelta(days=7), ends_at=now + timedelta(days=7, hours=1)
    )

    page = responder_client.get(reverse("incidents:list")).content.decode()

    assert "Maintenance active:</strong> Kernel patching" in page
    assert "Maintenance scheduled:</strong> DB failover drill" in page
    assert "service=checkout" in page
    assert timezone.localtime(now + timedelta(hours=4)).strftime("%H:%M") in page  # the drill's end
    assert "Next week" not in page
    assert f'href="{reverse("alertmanager:list")}"' in page  # the Integrations link in the top bar
