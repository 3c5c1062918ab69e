"""Buttons and /incident: signed requests only, acting as the linked Opsportal user through the
lifecycle, explaining privately when nothing can be done."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from incidents import lifecycle
from incidents.integrations.slack.models import SlackUserLink
from incidents.models import Incident, Service, Severity, Source, TimelineEvent
from tests.contracts.slack import SlackContractServer

from .conftest import action_form, post_signed, signed

pytestmark = [pytest.mark.django_db,
              pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")]
ACTIONS, COMMANDS = "/hooks/slack/actions", "/hooks/slack/commands"


@pytest.fixture
def incident(p3: Severity) -> Incident:
    return lifecycle.incident_open(title="Checkout down", severity=p3, source=Source.WEB)


def test_a_signed_button_press_acknowledges_as_the_mapped_user(
    client, incident: Incident, responder, slack_server: SlackContractServer, eager_tasks
) -> None:
    slack_server.add_user("U0ALICE", "Responder@Example.com")

    response = eager_tasks(client, ACTIONS, action_form("incident_acknowledge", incident.pk,
                                                        response_url=slack_server.response_url()))

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    event = TimelineEvent.objects.get(incident=incident, kind="acknowledged")
    assert event.source == "slack" and event.actor == responder
    assert SlackUserLink.objects.get(slack_user_id="U0ALICE").user == responder, "looked up once, stored"
    assert slack_server.calls_to("users.info") == [{"user": "U0ALICE"}]

    eager_tasks(client, ACTIONS, action_form("incident_resolve", incident.pk))
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert len(slack_server.calls_to("users.info")) == 1, "the stored link is used the second time"


@pytest.mark.parametrize("how", ["forged", "stale", "unsigned", "tampered"])
def test_forged_or_stale_requests_are_refused(
    client, incident: Incident, responder, slack_server: SlackContractServer, how: str
) -> None:
    SlackUserLink.objects.create(team_id="T0OPSPORTAL", slack_user_id="U0ALICE", user=responder)
    body = urlencode(action_form("incident_acknowledge", incident.pk))
    headers = {
        "forged": signed(body, secret="not-the-secret"),
        "stale": signed(body, at=int(time.time()) - 301),
        "unsigned": {},
        "tampered": signed(body.replace("acknowledge", "resolve")),
    }[how]
    for path in (ACTIONS, COMMANDS):
        response = client.post(path, data=body, content_type="application/x-www-form-urlencoded", **headers)
        assert response.status_code == 401, response.content
        assert response.json()["error"]["message"]
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_the_hooks_pool_answers_buttons_and_commands(
    client, hooks_pool, incident: Incident, responder, slack_server: SlackContractServer, eager_tasks
) -> None:
    SlackUserLink.objects.create(team_id="T0OPSPORTAL", slack_user_id="U0ALICE", user=responder)

    response = eager_tasks(client, ACTIONS, action_form("incident_acknowledge", incident.pk))
    listed = post_signed(client, COMMANDS, {"command": "/incident", "text": "list", "user_id": "U0ALICE",
                                            "team_id": "T0OPSPORTAL", "trigger_id": "1.2.x"})

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert TimelineEvent.objects.get(incident=incident, kind="acknowledged").actor == responder
    assert listed.status_code == 200 and f"#{incident.pk} Checkout down" in listed.json()["text"]


def test_an_unknown_slack_user_is_told_to_link_and_nothing_changes(
    client, incident: Incident, slack_server: SlackContractServer, eager_tasks
) -> None:
    slack_server.add_user("U0STRANGER", "nobody@elsewhere.example")

    response = eager_tasks(client, ACTIONS, action_form("incident_acknowledge", incident.pk, user="U0STRANGER",
                                                        response_url=slack_server.response_url()))

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "triggered"
    [reply] = slack_server.state.responses
    assert reply["response_type"] == "ephemeral" and "Link your account" in reply["text"]
    assert not SlackUserLink.objects.exists()


def test_a_button_on_a_resolved_incident_explains_privately(
    client, incident: Incident, responder, slack_server: SlackContractServer, eager_tasks
) -> None:
    SlackUserLink.objects.create(team_id="T0OPSPORTAL", slack_user_id="U0ALICE", user=responder)
    lifecycle.incident_resolve(incident=incident, actor=None, source=Source.WEB)

    response = eager_tasks(client, ACTIONS, action_form("incident_acknowledge", incident.pk,
                                                        response_url=slack_server.response_url()))

    assert response.status_code == 200
    [reply] = slack_server.state.responses
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == f"Cannot acknowledge incident #{incident.pk}: it is resolved."
    assert TimelineEvent.objects.filter(incident=incident, kind="acknowledged").count() == 0


def test_a_response_url_that_is_not_slacks_is_not_called(
    client, incident: Incident, responder, slack_server: SlackContractServer, eager_tasks
) -> None:
    SlackUserLink.objects.create(team_id="T0OPSPORTAL", slack_user_id="U0ALICE", user=responder)
    lifecycle.incident_resolve(incident=incident, actor=None, source=Source.WEB)
    eager_tasks(client, ACTIONS, action_form("incident_resolve", incident.pk,
                                             response_url=slack_server.url + "/elsewhere"))
    assert slack_server.state.responses == []


def test_bad_payloads_get_a_400_naming_the_problem(client, slack_server: SlackContractServer) -> None:
    assert post_signed(client, ACTIONS, {"other": "x"}).json()["error"]["message"] == "The form has no 'payload' field."
    response = post_signed(client, ACTIONS, {"payload": "{not json"})
    assert response.status_code == 400 and "not JSON" in response.json()["error"]["message"]
    form = action_form("incident_acknowledge", 1)
    form["payload"] = form["payload"].replace('"value": "1"', '"value": "DROP TABLE"')
    response = post_signed(client, ACTIONS, form)
    assert response.status_code == 400 and "not an incident id" in response.json()["error"]["message"]


def test_incident_list_answers_with_the_open_incidents(
    client, p3: Severity, slack_server: SlackContractServer
) -> None:
    open_one = lifecycle.incident_open(title="Checkout <down> & out", severity=p3, source=Source.WEB)
    closed = lifecycle.incident_open(title="Old one", severity=p3, source=Source.WEB)
    lifecycle.incident_resolve(incident=closed, actor=None, source=Source.WEB)

    for text in ("", "list"):
        response = post_signed(client, COMMANDS, {"command": "/incident", "text": text, "user_id": "U0ALICE",
                                                   "team_id": "T0OPSPORTAL", "trigger_id": "1.2.x"})
        assert response.status_code == 200
        answer = response.json()
        assert answer["response_type"] == "ephemeral"
        assert f"#{open_one.pk} Checkout &lt;down&gt; &amp; out" in answer["text"]
        assert "Old one" not in answer["text"]


def test_incident_declare_opens_a_modal_whose_submission_declares_it(
    client, severities, responder, slack_server: SlackContractServer, eager_tasks
) -> None:
    Service.objects.create(name="checkout")
    slack_server.add_user("U0ALICE", "responder@example.com")

    response = eager_tasks(client, COMMANDS, {"command": "/incident", "text": "declare Checkout is slow",
                                               "user_id": "U0ALICE", "team_id": "T0OPSPORTAL",
                                               "trigger_id": "1.2.x", "response_url": slack_server.response_url()})
    assert response.status_code == 200
    [view] = slack_server.state.views
    assert view["callback_id"] == "incident_declare"
    assert view["blocks"][0]["element"]["initial_value"] == "Checkout is slow"

    submission = {
        "type": "view_submission", "user": {"id": "U0ALICE", "team_id": "T0OPSPORTAL"},
        "team": {"id": "T0OPSPORTAL"},
        "view": {"callback_id": "incident_declare", "state": {"values": {
            "title": {"value": {"type": "plain_text_input", "value": "Checkout is slow"}},
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "P2"}}},
            "service": {"value": {"type": "static_select", "selected_option": {"value": "checkout"}}},
        }}},
    }
    response = eager_tasks(client, ACTIONS, {"payload": json.dumps(submission)})
    assert response.status_code == 200 and response.content == b""
    incident = Incident.objects.get()
    assert incident.service is not None
    assert (incident.title, incident.severity.name, incident.service.name, incident.source) == (
        "Checkout is slow", "P2", "checkout", "slack")
    assert incident.created_by == responder

    submission["view"]["state"]["values"]["title"]["value"]["value"] = " "  # type: ignore[index]
    response = eager_tasks(client, ACTIONS, {"payload": json.dumps(submission)})
    assert response.json() == {"response_action": "errors", "errors": {"title": "Title must not be empty."}}
