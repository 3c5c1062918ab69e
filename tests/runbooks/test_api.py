"""The API contract: create a runbook, start it on an incident, read the run, act on its step."""

from __future__ import annotations

import pytest
from django.test import Client

from incidents.models import EventKind, Incident
from runbooks.models import Runbook

from .conftest import Target, drive

pytestmark = pytest.mark.django_db

DATABASE_RECOVERY = {"name": "Database recovery", "steps": [
    {"title": "Health", "action": "http_check",
     "params": {"url": "http://db-proxy:8080/health", "expect_status": 200}},
    {"title": "Approve restart", "action": "approval"},
    {"title": "Restart", "action": "http_request",
     "params": {"method": "POST", "url": "http://ops-api/restart", "body": "{\"service\": \"{{ labels.service }}\"}"}},
]}


def test_it_creates_the_contract_runbook(responder_client: Client) -> None:
    response = responder_client.post("/api/v1/runbooks/", DATABASE_RECOVERY, content_type="application/json")
    assert response.status_code == 201, response.content
    runbook = Runbook.objects.get(pk=response.json()["id"])
    assert [s.action for s in runbook.steps.order_by("order")] == ["http_check", "approval", "http_request"]


@pytest.mark.parametrize(("step", "field", "words"), [
    ({"title": "Health", "action": "http_check", "params": {"url": "ftp://db/health"}}, "steps[1].params.url", "http"),
    ({"title": "Health", "action": "http_check", "params": {"url": "http://169.254.169.254/"}},
     "steps[1].params.url", "link-local"),
    ({"title": "Health", "action": "http_check", "params": {"url": "http://db/", "timeout": -1}},
     "steps[1].params.timeout", "between"),
    ({"title": "Slow", "action": "http_check", "params": {"url": "http://db/"}, "timeout_seconds": -5},
     "steps[1].timeout_seconds", "timeout_seconds"),
    ({"title": "Run", "action": "command", "params": {"argv": ["/bin/rm", "-rf", "/"]}}, "steps[1].params.argv[0]",
     "not an allowed command"),
    ({"title": "Port", "action": "tcp_check", "params": {"host": "db", "port": 70000}}, "steps[1].params.port",
     "between"),
    ({"title": "Nope", "action": "teleport"}, "steps[1].action", "one of"),
])
def test_it_refuses_invalid_parameters_naming_the_step_and_field(responder_client: Client, settings, step, field,
                                                                 words) -> None:
    settings.RUNBOOK_COMMANDS_ENABLED = True
    body = {"name": "Broken", "steps": [{"title": "Ok", "action": "manual"}, step]}
    response = responder_client.post("/api/v1/runbooks/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == field and error["step"] == 2
    assert "Step 2" in error["message"] and words in error["message"]
    assert not Runbook.objects.exists()


def test_it_refuses_a_credential_typed_into_a_header(responder_client: Client) -> None:
    body = {"name": "Leaky", "steps": [{"title": "Call", "action": "http_request", "params": {
        "url": "http://ops-api/", "headers": {"Authorization": "Bearer s3cret"}}}]}
    response = responder_client.post("/api/v1/runbooks/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "steps[0].params.headers.Authorization"


def test_a_run_waits_for_approval_then_runs_and_reports_each_step(
        responder_client: Client, incident: Incident, target: Target) -> None:
    book = dict(DATABASE_RECOVERY)
    book["steps"] = [
        {"title": "Health", "action": "http_check", "params": {"url": target.url + "/health", "expect_status": 200}},
        {"title": "Approve restart", "action": "approval"},
        {"title": "Restart", "action": "http_request", "params": {
            "method": "POST", "url": target.url + "/restart", "body": "{\"service\": \"{{ labels.service }}\"}"}},
    ]
    runbook_id = responder_client.post("/api/v1/runbooks/", book, content_type="application/json").json()["id"]
    response = responder_client.post(f"/api/v1/incidents/{incident.pk}/runbook-runs/", {"runbook": runbook_id},
                                     content_type="application/json")
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    from runbooks.models import RunbookRun

    drive(RunbookRun.objects.get(pk=run_id))
    run = responder_client.get(f"/api/v1/runbook-runs/{run_id}/").json()
    assert run["status"] == "waiting_approval"
    assert [(s["title"], s["status"]) for s in run["steps"]] == [
        ("Health", "succeeded"), ("Approve restart", "waiting_approval"), ("Restart", "pending")]
    assert "200 OK" in run["steps"][0]["output"] and run["steps"][0]["attempts"] == 1
    assert set(run["steps"][0]) >= {"title", "action", "status", "attempts", "output", "started_at", "finished_at",
                                    "approved_by"}

    assert responder_client.post(f"/api/v1/runbook-runs/{run_id}/retry/").status_code == 409
    approved = responder_client.post(f"/api/v1/runbook-runs/{run_id}/approve/")
    assert approved.status_code == 200
    assert approved.json()["steps"][1]["approved_by"] == "responder"
    again = responder_client.post(f"/api/v1/runbook-runs/{run_id}/approve/")
    assert again.status_code == 409 and "already approved by responder" in again.json()["error"]["message"]

    drive(RunbookRun.objects.get(pk=run_id))
    run = responder_client.get(f"/api/v1/runbook-runs/{run_id}/").json()
    assert run["status"] == "succeeded"
    assert target.requests[-1]["body"] == '{"service": "orders-db"}'
    listed = responder_client.get(f"/api/v1/incidents/{incident.pk}/runbook-runs/").json()
    assert [r["id"] for r in listed] == [run_id]
    messages = list(incident.events.filter(kind=EventKind.RUNBOOK).values_list("message", flat=True))
    assert any("Step 1 “Health” succeeded" in m for m in messages)
    assert any("approved by responder" in m.lower() or "Marked approved by responder" in m for m in messages)
    assert messages[-1].startswith("Runbook “Database recovery” finished: succeeded")


def test_a_failed_step_can_be_retried_or_skipped_and_a_run_cancelled(
        responder_client: Client, incident: Incident, target: Target) -> None:
    body = {"name": "Flaky", "steps": [
        {"title": "Check", "action": "http_check", "params": {"url": target.url + "/status/503"}, "retries": 1},
        {"title": "Then", "action": "manual"}]}
    runbook_id = responder_client.post("/api/v1/runbooks/", body, content_type="application/json").json()["id"]
    run_id = responder_client.post(f"/api/v1/incidents/{incident.pk}/runbook-runs/", {"runbook": runbook_id},
                                   content_type="application/json").json()["id"]
    from runbooks.models import RunbookRun

    drive(RunbookRun.objects.get(pk=run_id))
    run = responder_client.get(f"/api/v1/runbook-runs/{run_id}/").json()
    assert run["status"] == "failed" and run["steps"][0]["status"] == "failed"
    assert run["steps"][0]["attempts"] == 2, "one retry, both attempts recorded"
    assert "503" in run["steps"][0]["output"]
    assert responder_client.post(f"/api/v1/runbook-runs/{run_id}/retry/").json()["status"] == "running"
    drive(RunbookRun.objects.get(pk=run_id))
    assert responder_client.get(f"/api/v1/runbook-runs/{run_id}/").json()["steps"][0]["attempts"] == 4
    skipped = responder_client.post(f"/api/v1/runbook-runs/{run_id}/skip/").json()
    assert [s["status"] for s in skipped["steps"]] == ["skipped", "waiting_approval"]
    assert responder_client.post(f"/api/v1/runbook-runs/{run_id}/cancel/").json()["status"] == "cancelled"
    cancelled = responder_client.post(f"/api/v1/runbook-runs/{run_id}/cancel/")
    assert cancelled.status_code == 409 and "already cancelled" in cancelled.json()["error"]["message"]


def test_only_the_commander_or_staff_may_act_once_a_commander_is_assigned(
        login, responder, other_responder, incident: Incident) -> None:
    from incidents import lifecycle
    from incidents.models import Source

    lifecycle.incident_assign_commander(incident=incident, commander=responder, actor=responder, source=Source.WEB)
    client = login(responder)
    runbook_id = client.post("/api/v1/runbooks/", {"name": "Gate", "steps": [{"title": "Go?", "action": "approval"}]},
                             content_type="application/json").json()["id"]
    run_id = client.post(f"/api/v1/incidents/{incident.pk}/runbook-runs/", {"runbook": runbook_id},
                         content_type="application/json").json()["id"]
    refused = login(other_responder).post(f"/api/v1/runbook-runs/{run_id}/approve/")
    assert refused.status_code == 403 and "commander (responder)" in refused.json()["error"]["message"]
    assert client.post(f"/api/v1/runbook-runs/{run_id}/approve/").json()["status"] == "succeeded"
