"""`make run`'s demo data: loaded once, login printed every time."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from incidents.models import Incident, Status

pytestmark = pytest.mark.django_db


def test_it_loads_demo_data_once_and_prints_a_working_login(settings, tmp_path, severities):
    settings.DATA_DIR = tmp_path
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    count = Incident.objects.count()
    call_command("seed_demo", stdout=second)

    assert count == 5 and Incident.objects.count() == count
    p1 = Incident.objects.get(source="alertmanager", severity__name="P1")
    assert p1.alerts.count() == 2 and p1.status == Status.TRIGGERED
    assert "Bearer " in second.getvalue()
    statuses = set(Incident.objects.values_list("status", flat=True))
    assert {Status.TRIGGERED, Status.ACKNOWLEDGED, Status.RESOLVED, Status.CLOSED} <= statuses
    login = [line for line in second.getvalue().splitlines() if "Login:" in line][0]
    user, password = login.split("Login:")[1].split(" / ")
    assert user.strip() == "admin"
    signed_in = Client().post("/accounts/login/", {"username": "admin", "password": password.strip()})
    assert signed_in.status_code == 302
    assert "Demo data loaded" not in second.getvalue()
