"""Steps as a user sees them: safety of each action, bounded output, timers, the reaper, triggers,
versions, the Slack thread and the live panel."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from incidents import lifecycle
from incidents.models import Incident, Severity, Source
from incidents.notifications.models import Delivery
from runbooks import editing, runs, sweeps
from runbooks.models import RunbookRun, StepRun
from tests.contracts.slack import DEFAULT_CHANNEL_ID, SlackContractServer

from .conftest import BIG_OUTPUT, ECHO_ARGS, Target, drive, steps

pytestmark = pytest.mark.django_db


def _run(incident: Incident, *step_list: dict, name: str = "Book") -> RunbookRun:  # type: ignore[type-arg]
    book = editing.runbook_save(data={"name": name, "steps": list(step_list)}, actor=None)
    return drive(runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB))


@pytest.mark.usefixtures("commands")
def test_label_values_reach_the_program_as_one_literal_argument_each(p3: Severity) -> None:
    evil = {"service": "; rm -rf /", "cmd": "$(touch /tmp/pwned)", "opt": "--output=/etc/passwd"}
    incident = lifecycle.incident_open(title="x", severity=p3, source=Source.WEB, labels=evil)
    run = _run(incident, {"title": "Echo", "action": "command", "params": {"argv": [
        ECHO_ARGS, "{{ labels.service }}", "{{ labels.cmd }}", "{{ labels.opt }}", "--static"]}})
    [step] = steps(run)
    assert step.status == "succeeded", step.output
    assert json.loads(step.output.splitlines()[1]) == ["; rm -rf /", "$(touch /tmp/pwned)", "--output=/etc/passwd",
                                                       "--static"]


@pytest.mark.usefixtures("commands")
def test_ten_megabytes_of_output_are_cut_with_a_marker(incident: Incident, settings) -> None:
    run = _run(incident, {"title": "Loud", "action": "command", "params": {"argv": [BIG_OUTPUT]}})
    [step] = steps(run)
    assert step.status == "succeeded"
    assert len(step.output.encode()) < settings.RUNBOOK_OUTPUT_MAX_BYTES + 200
    assert step.output.rstrip().endswith("more bytes not kept]")
    assert step.result["output_bytes"] == 10 * 1024 * 1024


def test_a_command_is_refused_at_run_time_once_commands_are_turned_off(incident: Incident, settings,
                                                                     commands: None) -> None:
    book = editing.runbook_save(data={"name": "Cmd", "steps": [
        {"title": "Echo", "action": "command", "params": {"argv": [ECHO_ARGS]}}]}, actor=None)
    settings.RUNBOOK_COMMANDS_ENABLED = False
    run = drive(runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB))
    assert run.status == "failed" and "turned off" in steps(run)[0].output


def test_a_hanging_http_target_is_cut_at_the_step_timeout(incident: Incident, target: Target) -> None:
    run = _run(incident, {"title": "Hang", "action": "http_check", "params": {"url": target.url + "/hang",
                                                                              "timeout": 1}})
    [step] = steps(run)
    assert step.status == "failed" and "did not answer within 1 s" in step.output
    assert step.duration_seconds is not None and step.duration_seconds < 10


def test_a_big_http_body_is_read_only_up_to_the_limit(incident: Incident, target: Target, settings) -> None:
    settings.RUNBOOK_HTTP_MAX_BODY_BYTES = 1000
    run = _run(incident, {"title": "Big", "action": "http_check", "params": {"url": target.url + "/big"}})
    [step] = steps(run)
    assert step.status == "succeeded"
    assert "response body cut at 1000" in step.output and len(step.output) < 2000


@pytest.mark.parametrize("host", ["169.254.169.254", "127.0.0.1:9", "localhost:9", "[::ffff:169.254.169.254]"])
def test_requests_to_metadata_and_loopback_are_refused(incident: Incident, host: str) -> None:
    book = {"title": "SSRF", "action": "http_check", "params": {"url": "http://{{ labels.target }}/latest/"}}
    incident.labels = {"target": host}
    incident.save()
    run = _run(incident, book)
    [step] = steps(run)
    assert step.status == "failed" and "refused by the outbound policy" in step.output


def test_a_redirect_to_the_metadata_service_is_refused(incident: Incident, target: Target) -> None:
    run = _run(incident, {"title": "Hop", "action": "http_check", "params": {
        "url": target.url + "/redirect-metadata", "follow_redirects": True}})
    [step] = steps(run)
    assert step.status == "failed" and "redirected to an address that the outbound policy refuses" in step.output


@pytest.mark.parametrize("host", ["169.254.169.254", "127.0.0.1", "localhost"])
def test_tcp_checks_follow_the_same_address_policy(incident: Incident, host: str) -> None:
    incident.labels = {"host": host}
    incident.save()
    run = _run(incident, {"title": "Port", "action": "tcp_check", "params": {"host": "{{ labels.host }}",
                                                                            "port": 5432}})
    assert "refused by the outbound policy" in steps(run)[0].output


def test_tcp_check_reaches_an_allowed_port(incident: Incident, target: Target) -> None:
    port = target.server.server_address[1]
    run = _run(incident, {"title": "Port", "action": "tcp_check", "params": {"host": "127.0.0.1", "port": port}})
    assert steps(run)[0].status == "succeeded"


def test_secrets_are_sent_by_name_and_never_shown(incident: Incident, target: Target, settings) -> None:
    settings.RUNBOOK_SECRETS = {"OPS_TOKEN": "Bearer hunter2"}
    run = _run(incident, {"title": "Call", "action": "http_request", "params": {
        "url": target.url + "/echo", "secret_headers": {"Authorization": "OPS_TOKEN"}}})
    assert target.requests[-1]["headers"]["Authorization"] == "Bearer hunter2"
    book = run.runbook
    assert book is not None and "hunter2" not in json.dumps(editing.runbook_as_data(book))


def test_a_wait_step_is_completed_by_the_scheduler_sweep(incident: Incident) -> None:
    run = _run(incident, {"title": "Settle", "action": "wait", "params": {"seconds": 30}},
               {"title": "After", "action": "manual"})
    assert steps(run)[0].status == "running"
    assert sweeps.runbook_waits_sweep() == 0, "not due yet"
    assert sweeps.runbook_waits_sweep(now=timezone.now() + timedelta(seconds=31)) == 1
    assert [s.status for s in steps(run)] == ["succeeded", "waiting_approval"]


def test_the_reaper_retries_then_fails_a_step_whose_worker_died(incident: Incident, target: Target) -> None:
    book = editing.runbook_save(data={"name": "Lost", "steps": [
        {"title": "Check", "action": "http_check", "params": {"url": target.url + "/ok"}, "retries": 1}]}, actor=None)
    run = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
    step = steps(run)[0]
    # A worker claimed attempt 1 and was killed: the step stays "running" until its deadline.
    StepRun.objects.filter(pk=step.pk).update(claimed_attempt=1)
    later = timezone.now() + timedelta(hours=1)
    assert sweeps.runbook_reaper_sweep(now=later) == 1
    step.refresh_from_db()
    assert step.status == "running" and step.attempts == 2
    assert step.attempt_log[0]["lost"] is True
    assert runs.step_execute(step.pk, 1) is False, "the redelivered first attempt does not run again"
    StepRun.objects.filter(pk=step.pk).update(claimed_attempt=2)
    assert sweeps.runbook_reaper_sweep(now=later + timedelta(hours=1)) == 1
    step.refresh_from_db()
    run.refresh_from_db()
    assert step.status == "failed" and "was lost: its worker stopped" in step.output
    assert run.status == "failed"


def test_a_run_keeps_the_version_it_started_with(incident: Incident) -> None:
    data = {"name": "Versioned", "steps": [{"title": "Old first", "action": "manual"}]}
    book = editing.runbook_save(data=data, actor=None)
    run = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
    book = editing.runbook_save(data={"name": "Versioned", "steps": [
        {"title": "New first", "action": "approval"}, {"title": "New second", "action": "manual"}]},
        actor=None, runbook=book)
    assert book.version == 2
    run.refresh_from_db()
    assert run.runbook_version == 1 and [s.title for s in steps(run)] == ["Old first"]
    fresh = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
    assert fresh.runbook_version == 2 and [s.title for s in steps(fresh)] == ["New first", "New second"]


def test_an_auto_start_trigger_starts_its_runbook_when_a_matching_incident_opens(p1: Severity, p3: Severity) -> None:
    editing.runbook_save(data={"name": "Database recovery", "steps": [{"title": "Go?", "action": "approval"}],
                               "triggers": [{"matchers": "alertname=DatabaseDown", "severities": ["P1"],
                                             "auto_start": True}]}, actor=None)
    hit = lifecycle.incident_open(title="a", severity=p1, source=Source.WEB, labels={"alertname": "DatabaseDown"})
    other_sev = lifecycle.incident_open(title="b", severity=p3, source=Source.WEB,
                                        labels={"alertname": "DatabaseDown"})
    other_label = lifecycle.incident_open(title="c", severity=p1, source=Source.WEB, labels={"alertname": "DiskFull"})
    assert [r.runbook_name for r in RunbookRun.objects.filter(incident=hit)] == ["Database recovery"]
    assert RunbookRun.objects.get(incident=hit).auto_started
    assert not RunbookRun.objects.filter(incident__in=[other_sev, other_label]).exists()


def test_step_updates_reach_the_incidents_slack_thread(incident: Incident, target: Target,
                                                      slack_server: SlackContractServer) -> None:
    from tests.integrations.slack.conftest import flush_all

    flush_all()
    _run(incident, {"title": "Health", "action": "http_check", "params": {"url": target.url + "/ok"}},
         {"title": "Tell them", "action": "notify", "params": {"message": "Restarted {{ labels.service }}."}})
    flush_all()
    [root] = slack_server.roots(DEFAULT_CHANNEL_ID)
    text = "\n".join(r["text"] for r in slack_server.replies(DEFAULT_CHANNEL_ID, root["ts"]))
    assert "Step 1 “Health” succeeded" in text
    assert "Restarted orders-db." in text
    assert "finished: succeeded" in text
    assert Delivery.objects.filter(kind="runbook", status="sent").exists()


def test_the_panel_answers_204_while_nothing_changed_and_acts_with_htmx(
        responder_client: Client, incident: Incident) -> None:
    book = editing.runbook_save(data={"name": "Gate", "steps": [{"title": "Go?", "action": "approval"}]}, actor=None)
    page = responder_client.get(f"/incidents/{incident.pk}/")
    assert "Runbooks" in page.content.decode() and "Gate" in page.content.decode()
    started = responder_client.post(f"/runbooks/incidents/{incident.pk}/start", {"runbook": book.pk},
                                    HTTP_HX_REQUEST="true")
    assert started.status_code == 200 and 'data-status="waiting_approval"' in started.content.decode()
    version = started.content.decode().split("?since=")[1].split('"')[0]
    poll = f"/runbooks/incidents/{incident.pk}/panel?since={version}"
    assert responder_client.get(poll).status_code == 204
    run = RunbookRun.objects.get(incident=incident)
    approved = responder_client.post(f"/runbooks/runs/{run.pk}/approve", HTTP_HX_REQUEST="true")
    assert "approved by responder" in approved.content.decode()
    assert responder_client.get(poll).status_code == 200
    twice = responder_client.post(f"/runbooks/runs/{run.pk}/approve", HTTP_HX_REQUEST="true")
    assert twice.status_code == 409 and "already approved by responder" in twice.content.decode()
