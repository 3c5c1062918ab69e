"""The deliveries panel, the template editor with its live preview, and routes, as people use them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from incidents import lifecycle
from incidents.models import Severity, Source
from incidents.notifications import outbox
from incidents.notifications.channels import TransportError
from incidents.notifications.models import Delivery, MessageTemplate, Route

from .conftest import RecordingSender

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(django_user_model: type[User]) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user("lead", is_staff=True))
    return client


@pytest.fixture
def responder_client(responder: User) -> Client:
    client = Client()
    client.force_login(responder)
    return client


def test_the_incident_page_shows_what_was_sent_and_what_failed(
    responder_client: Client, p1: Severity, recorder: RecordingSender
) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    recorder.fail_with = [TransportError("Slack answered 500 Internal Server Error")]
    outbox.conversation_flush(Delivery.objects.get().conversation_id)

    html = responder_client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="deliveries"' in html and "Slack answered 500" in html and "Retry now" in html

    failed = Delivery.objects.get()
    panel = responder_client.post(f"/notifications/deliveries/{failed.pk}/retry", HTTP_HX_REQUEST="true")
    assert panel.status_code == 200 and "pending" in panel.content.decode()
    failed.refresh_from_db()
    assert failed.status == "pending"


def test_an_unconfigured_channel_shows_the_message_as_it_would_be_posted(
    responder_client: Client, p1: Severity, recorder: RecordingSender
) -> None:
    recorder.is_configured = False
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    html = responder_client.get(f"/notifications/incidents/{incident.pk}/deliveries").content.decode()
    assert "Recorder not configured" in html and "INCIDENT ALERT - P1" in html and "As it would be posted" in html


def test_the_preview_renders_unsaved_text_and_names_a_broken_template(
    responder_client: Client, p1: Severity, recorder: RecordingSender
) -> None:
    incident = lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    ok = responder_client.post("/notifications/templates/recorder/opened/preview",
                               {"subject": "", "body": "{{ incident.title }} ({{ incident.severity }})",
                                "incident": incident.pk})
    assert ok.status_code == 200 and "Checkout down (P1)" in ok.content.decode()
    broken = responder_client.post("/notifications/templates/recorder/opened/preview",
                                   {"subject": "", "body": "{{ incident.nope }}"})
    assert broken.status_code == 422 and "does not render" in broken.content.decode()
    assert "nope" in broken.content.decode()


def test_staff_save_a_template_and_a_broken_one_is_refused(
    staff_client: Client, responder_client: Client, recorder: RecordingSender
) -> None:
    url = "/notifications/templates/recorder/opened/"
    assert responder_client.post(url, {"body": "x"}).status_code == 403
    refused = staff_client.post(url, {"subject": "", "body": "{{ ''.__class__.__mro__ }}"})
    assert refused.status_code == 400 and "does not render" in refused.content.decode()
    refused = staff_client.post(url, {"subject": "", "body": "{{ missing_variable }}"})
    assert refused.status_code == 400 and "missing_variable" in refused.content.decode()
    assert not MessageTemplate.objects.exists()

    saved = staff_client.post(url, {"subject": "", "body": "🚨 {{ incident.title }}"})
    assert saved.status_code == 302
    assert MessageTemplate.objects.get().body == "🚨 {{ incident.title }}"
    assert "edited" in staff_client.get("/notifications/templates/").content.decode()
    staff_client.post(url + "reset")
    assert not MessageTemplate.objects.exists()


def test_staff_add_and_remove_routes(staff_client: Client, p1: Severity, recorder: RecordingSender) -> None:
    response = staff_client.post("/notifications/routes/", {"channel": "recorder", "target": "#payments",
                                                            "severities": [p1.pk]})
    assert response.status_code == 302
    route = Route.objects.get()
    assert [s.name for s in route.severities.all()] == ["P1"]
    lifecycle.incident_open(title="Checkout down", severity=p1, source=Source.WEB)
    assert Delivery.objects.get().target == "#payments"
    assert staff_client.post("/notifications/routes/", {"channel": "nope", "target": "x"}).status_code == 400
    staff_client.post(f"/notifications/routes/{route.pk}/delete")
    assert not Route.objects.exists()


def test_the_admin_refuses_a_broken_template_and_an_unknown_channel(
    django_user_model: type[User], recorder: RecordingSender
) -> None:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))
    refused = client.post("/admin/notifications/messagetemplate/add/",
                          {"channel": "recorder", "event": "opened", "subject": "", "body": "{{ nope }}"})
    assert refused.status_code == 200 and "does not render" in refused.content.decode()
    assert not MessageTemplate.objects.exists()
    refused = client.post("/admin/notifications/route/add/", {"channel": "telegram", "target": "x", "enabled": "on"})
    assert refused.status_code == 200 and "Unknown channel" in refused.content.decode()
    saved = client.post("/admin/notifications/route/add/", {"channel": "recorder", "target": "#ops", "enabled": "on"})
    assert saved.status_code == 302 and Route.objects.get().target == "#ops"


def test_a_template_that_renders_too_much_is_refused(staff_client: Client, recorder: RecordingSender) -> None:
    url = "/notifications/templates/recorder/opened/"
    for body in ("{{ 'x' * 500000000 }}", "{% for a in range(100000) %}{% for b in range(100000) %}.{% endfor %}{% endfor %}"):
        refused = staff_client.post(url, {"subject": "", "body": body})
        assert refused.status_code == 400 and "does not render" in refused.content.decode()
    assert not MessageTemplate.objects.exists()
