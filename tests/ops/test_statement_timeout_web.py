"""On PostgreSQL no web request runs a statement longer than DB_STATEMENT_TIMEOUT_MS_WEB, and one that
is cancelled answers 503, not 500."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.integrations.alertmanager.integration import integration_create
from incidents.integrations.alertmanager.models import Alert, AlertStatus
from incidents.lifecycle import incident_open
from incidents.models import Source

pytestmark = pytest.mark.postgres
ROOT = Path(settings.BASE_DIR)


@pytest.mark.django_db
def test_a_request_whose_statement_is_cancelled_answers_503(client: Client, responder, p1) -> None:
    integration, _ = integration_create(name="prod-am")
    incident = incident_open(title="Nodes down", severity=p1, source=Source.ALERTMANAGER)
    now = timezone.now() - timedelta(hours=1)
    Alert.objects.bulk_create([
        Alert(integration=integration, incident=incident, fingerprint=f"fp{i}", status=AlertStatus.FIRING,
              labels={f"label{k}": f"value {k} of alert {i}" for k in range(10)},
              starts_at=now, first_seen_at=now, last_seen_at=now)
        for i in range(4000)
    ])
    client.force_login(responder)
    # A real slow statement: eight free-text terms that every alert matches, so each one scans the
    # labels of all 4,000 alerts (about 300 ms here), while every other statement of the request
    # takes about a millisecond.
    search = " ".join(f'"value {k} of"' for k in range(2, 10))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '40ms'")  # reset when the test's transaction ends

    response = client.get(reverse("alertmanager:incident-alerts", args=[incident.pk]), {"alerts_q": search},
                          headers={"HX-Request": "true"})

    assert response.status_code == 503
    assert "took too long" in response.content.decode()
    assert response["Retry-After"]
