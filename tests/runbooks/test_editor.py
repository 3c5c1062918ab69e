"""The runbook editor's pages: steps added, saved, moved and removed with htmx or plain posts, each a
new version; an invalid parameter shown next to its field; garbage never a 500; a long runbook costs
no more queries than a short one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from incidents.models import Incident, Source
from runbooks import editing, runs
from runbooks.models import Runbook, StepRun

from .conftest import ECHO_ARGS

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def book() -> Runbook:
    return editing.runbook_save(data={"name": "Database recovery", "steps": [
        {"title": "Health", "action": "http_check", "params": {"url": "http://db-proxy:8080/health",
                                                               "expect_status": 200}},
        {"title": "Approve restart", "action": "approval"},
        {"title": "Settle", "action": "wait", "params": {"seconds": 30}},
    ]}, actor=None)


def _titles(book: Runbook) -> list[str]:
    return list(book.steps.order_by("order").values_list("title", flat=True))


def _version(book: Runbook) -> int:
    return Runbook.objects.get(pk=book.pk).version


def _field_error(html: str, param: str) -> str:
    """The error shown inside the input block of ``param`` (``data-param``), or ''."""
    block = re.search(rf'data-param="{param}">(.*?)</div>', html, re.S)
    assert block, f"no input for {param}"
    error = re.search(r'class="form-error"[^>]*>([^<]*)<', block.group(1))
    return error.group(1) if error else ""


def test_the_editor_lists_the_steps_in_order_with_what_each_does(responder_client: Client, book: Runbook) -> None:
    html = responder_client.get(f"/runbooks/{book.pk}/").content.decode()
    assert re.findall(r'data-testid="step-title">([^<]*)<', html) == ["Health", "Approve restart", "Settle"]
    assert "GET · http://db-proxy:8080/health · Expected status 200" in html
    assert "Edit as YAML" in html and f"/runbooks/{book.pk}/yaml" in html


def test_choosing_an_action_shows_the_form_of_its_parameters(responder_client: Client, book: Runbook,
                                                             commands: None) -> None:
    tcp = responder_client.get(f"/runbooks/{book.pk}/steps/item?add=tcp_check", headers=HX).content.decode()
    assert 'id="new-step"' in tcp
    assert re.findall(r'data-param="([^"]*)"', tcp) == ["host", "port", "timeout"]
    command = responder_client.get(f"/runbooks/{book.pk}/steps/item?add=command", headers=HX).content.decode()
    assert f'<option value="{ECHO_ARGS}">' in command and 'name="p_argv_args"' in command
    wait = responder_client.get(f"/runbooks/{book.pk}/steps/item?add=wait", headers=HX).content.decode()
    assert re.findall(r'data-param="([^"]*)"', wait) == ["seconds"]
    for common in ("title", "timeout_seconds", "retries", "on_failure", "needs_approval"):
        assert f'name="{common}"' in wait


def test_adding_a_step_saves_a_new_version_and_shows_it_last(responder_client: Client, book: Runbook) -> None:
    response = responder_client.post(f"/runbooks/{book.pk}/steps/save", {
        "index": "new", "version": "1", "action": "notify", "title": "Tell the channel",
        "p_message": "Restarted {{ labels.service }}.", "timeout_seconds": "30", "retries": "0", "on_failure": "stop",
    }, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="runbook-editor"' in html
    assert "Saved step 4 (now v2)." in html
    assert _titles(book) == ["Health", "Approve restart", "Settle", "Tell the channel"]
    assert book.steps.get(title="Tell the channel").params == {"message": "Restarted {{ labels.service }}."}


def test_saving_a_step_replaces_it_in_place(responder_client: Client, book: Runbook) -> None:
    response = responder_client.post(f"/runbooks/{book.pk}/steps/save", {
        "index": "2", "version": "1", "action": "wait", "title": "Settle longer", "p_seconds": "120",
        "timeout_seconds": "30", "retries": "1", "on_failure": "continue", "needs_approval": "1",
    }, headers=HX)
    assert response.status_code == 200
    step = book.steps.get(order=2)
    assert (step.title, step.params, step.retries, step.on_failure, step.needs_approval) == (
        "Settle longer", {"seconds": 120.0}, 1, "continue", True)
    assert _version(book) == 2


def test_steps_move_up_and_down_and_are_removed(responder_client: Client, book: Runbook) -> None:
    up = responder_client.post(f"/runbooks/{book.pk}/steps/up", {"index": "2", "version": "1"}, headers=HX)
    assert up.status_code == 200 and "Moved step 3 up (now v2)." in up.content.decode()
    assert _titles(book) == ["Health", "Settle", "Approve restart"]
    down = responder_client.post(f"/runbooks/{book.pk}/steps/down", {"index": "0", "version": "2"}, headers=HX)
    assert down.status_code == 200
    assert _titles(book) == ["Settle", "Health", "Approve restart"]
    removed = responder_client.post(f"/runbooks/{book.pk}/steps/remove", {"index": "1", "version": "3"}, headers=HX)
    assert removed.status_code == 200
    assert re.findall(r'data-testid="step-title">([^<]*)<', removed.content.decode()) == ["Settle", "Approve restart"]
    assert _version(book) == 4


def test_an_invalid_parameter_is_shown_next_to_the_field_it_names(responder_client: Client, book: Runbook) -> None:
    response = responder_client.post(f"/runbooks/{book.pk}/steps/save", {
        "index": "0", "version": "1", "action": "http_check", "title": "Health", "p_method": "GET",
        "p_url": "http://169.254.169.254/latest/meta-data/", "p_expect_status": "700",
    }, headers=HX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#step-0" and response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert "url: 169.254.169.254 is a link-local address" in _field_error(html, "url")
    assert 'id="s0-p-url" name="p_url" value="http://169.254.169.254/latest/meta-data/"' in html
    assert 'aria-invalid="true" aria-describedby="s0-p-url-error"' in html
    assert _field_error(html, "expect_body") == ""
    assert _version(book) == 1 and book.steps.get(order=0).params["url"] == "http://db-proxy:8080/health"


@pytest.mark.parametrize(("field", "value", "param", "message"), [
    ("p_seconds", "-5", "seconds", "seconds must be between 1 and 86400, not -5"),
    ("p_seconds", "soon", "seconds", "seconds must be a number"),
    ("p_seconds", "", "seconds", "seconds is required"),
])
def test_the_wait_steps_own_checks_name_its_field(responder_client: Client, book: Runbook, field: str, value: str,
                                                  param: str, message: str) -> None:
    response = responder_client.post(f"/runbooks/{book.pk}/steps/save", {
        "index": "new", "version": "1", "action": "wait", "title": "Wait", field: value}, headers=HX)
    assert response.status_code == 400 and response["HX-Retarget"] == "#new-step"
    assert message in _field_error(response.content.decode(), param)


def test_a_common_field_error_is_shown_at_its_input(responder_client: Client, book: Runbook) -> None:
    response = responder_client.post(f"/runbooks/{book.pk}/steps/save", {
        "index": "1", "version": "1", "action": "approval", "title": "", "timeout_seconds": "9999"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="s1-title-error">[^<]*title is required', html)


def test_without_javascript_links_and_posts_do_the_same(responder_client: Client, book: Runbook) -> None:
    edit = responder_client.get(f"/runbooks/{book.pk}/?edit=0").content.decode()
    assert 'data-testid="step-form"' in edit and 'value="http://db-proxy:8080/health"' in edit
    add = responder_client.get(f"/runbooks/{book.pk}/?add=manual").content.decode()
    assert 'id="new-step"' in add and 'data-param="instructions"' in add
    assert responder_client.get(f"/runbooks/{book.pk}/steps/item?add=manual")["Location"] == \
        f"/runbooks/{book.pk}/?add=manual"
    saved = responder_client.post(f"/runbooks/{book.pk}/steps/save", {
        "index": "new", "version": "1", "action": "manual", "title": "Check graphs"}, follow=True)
    assert saved.redirect_chain == [(f"/runbooks/{book.pk}/", 302)]
    assert "Saved step 4 (now v2)." in saved.content.decode()
    refused = responder_client.post(f"/runbooks/{book.pk}/steps/save", {
        "index": "new", "version": "2", "action": "tcp_check", "title": "Port", "p_host": "db"})
    html = refused.content.decode()
    assert refused.status_code == 400 and "<html" in html
    assert "port is required" in _field_error(html, "port")


def test_an_edit_on_a_page_someone_else_changed_meanwhile_is_refused_with_the_current_runbook(
        responder_client: Client, book: Runbook) -> None:
    editing.runbook_step_remove(runbook=book, index=0, actor=None, expected_version=1)
    response = responder_client.post(f"/runbooks/{book.pk}/steps/remove", {"index": "0", "version": "1"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 409
    assert "changed while you edited v1: it is v2 now, and your change was not saved" in html
    assert re.findall(r'data-testid="step-title">([^<]*)<', html) == ["Approve restart", "Settle"]
    assert _titles(book) == ["Approve restart", "Settle"]


def test_runs_started_before_an_edit_keep_their_steps(responder_client: Client, book: Runbook,
                                                     incident: Incident) -> None:
    run = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
    responder_client.post(f"/runbooks/{book.pk}/steps/remove", {"index": "1", "version": "1"}, headers=HX)
    assert list(StepRun.objects.filter(run=run).values_list("title", flat=True)) == [
        "Health", "Approve restart", "Settle"]


def test_a_new_runbook_starts_with_its_first_step(responder_client: Client) -> None:
    page = responder_client.get("/runbooks/new?action=tcp_check").content.decode()
    assert re.findall(r'data-param="([^"]*)"', page) == ["host", "port", "timeout"]
    refused = responder_client.post("/runbooks/new", {"name": "Redis", "action": "tcp_check", "title": "Port",
                                                      "p_host": "redis", "p_port": "70000"})
    assert refused.status_code == 400
    assert "port must be between 1 and 65535" in _field_error(refused.content.decode(), "port")
    created = responder_client.post("/runbooks/new", {"name": "Redis", "action": "tcp_check", "title": "Port",
                                                      "p_host": "redis", "p_port": "6379"})
    book = Runbook.objects.get(name="Redis")
    assert created["Location"] == f"/runbooks/{book.pk}/"
    assert book.steps.get().params == {"host": "redis", "port": 6379}


def test_a_duplicate_name_is_shown_at_the_name(responder_client: Client, book: Runbook) -> None:
    editing.runbook_save(data={"name": "Other", "steps": [{"title": "x", "action": "manual"}]}, actor=None)
    response = responder_client.post(f"/runbooks/{book.pk}/rename", {"version": "1", "name": "Other"}, headers=HX)
    assert response.status_code == 409
    assert re.search(r'id="rb-name-error">A runbook named “Other” already exists', response.content.decode())
    renamed = responder_client.post(f"/runbooks/{book.pk}/rename", {"version": "1", "name": "DB recovery",
                                                                     "description": "Orders database."}, headers=HX)
    assert renamed.status_code == 200
    assert Runbook.objects.get(pk=book.pk).name == "DB recovery"


def test_changing_a_steps_action_keeps_what_the_two_share(responder_client: Client) -> None:
    html = responder_client.get("/runbooks/step-fields", {
        "key": "3", "action": "http_request", "title": "Call it", "p_url": "http://ops-api/restart",
        "p_method": "HEAD", "retries": "2"}).content.decode()
    assert re.findall(r'data-param="([^"]*)"', html)[:3] == ["method", "url", "body"]
    assert 'value="http://ops-api/restart"' in html and 'value="Call it"' in html and 'value="2"' in html
    assert 'id="s3-p-url"' in html


GARBAGE: list[tuple[str, dict[str, Any]]] = [
    ("save", {}),
    ("save", {"index": "new"}),
    ("save", {"index": "new", "version": "1"}),
    ("save", {"index": "new", "version": "1", "action": "rm -rf", "title": "x"}),
    ("save", {"index": "99", "version": "1", "action": "manual", "title": "x"}),
    ("save", {"index": "-1", "version": "1", "action": "manual", "title": "x"}),
    ("save", {"index": "١", "version": "١", "action": "manual", "title": "x"}),
    ("save", {"index": "0", "version": "banana", "action": "manual", "title": "x"}),
    ("save", {"index": "0", "version": "1", "action": "manual", "title": "x" * 5000}),
    ("save", {"index": "0", "version": "1", "action": "http_check", "title": "x", "p_url": "http://[::1",
              "p_expect_status": "1e999", "p_timeout": "nan", "p_headers": "=x", "timeout_seconds": "9" * 5000}),
    ("save", {"index": "0", "version": "1", "action": "command", "title": "x", "p_argv_args": "--all"}),
    ("save", {"index": "0", "version": "1", "action": "notify", "title": "x", "p_message": "{{ labels.x"}),
    ("up", {"index": "0", "version": "1"}),
    ("down", {"index": "2", "version": "1"}),
    ("remove", {"index": "abc", "version": "1"}),
    ("remove", {"version": "1"}),
    ("frobnicate", {"index": "0", "version": "1"}),
]


@pytest.mark.parametrize(("op", "data"), GARBAGE)
@pytest.mark.parametrize("htmx", [True, False])
def test_garbage_posts_are_answered_with_a_message_never_a_500(responder_client: Client, book: Runbook, op: str,
                                                               data: dict[str, Any], htmx: bool) -> None:
    response = responder_client.post(f"/runbooks/{book.pk}/steps/{op}", data, headers=HX if htmx else {})
    assert response.status_code in (400, 404, 409)
    assert _version(book) == 1


@pytest.mark.parametrize("query", ["?edit=99", "?edit=x", "?add=rm", "?add=", "?edit=0&add=wait"])
def test_garbage_queries_never_500(responder_client: Client, book: Runbook, query: str) -> None:
    assert responder_client.get(f"/runbooks/{book.pk}/{query}").status_code in (200, 400, 404)
    assert responder_client.get(f"/runbooks/{book.pk}/steps/item{query.replace('edit', 'index')}",
                                headers=HX).status_code in (200, 409)
    assert responder_client.get(f"/runbooks/step-fields{query.replace('add', 'action')}").status_code == 200


def test_the_editor_needs_a_signed_in_user(client: Client, book: Runbook) -> None:
    assert client.get(f"/runbooks/{book.pk}/")["Location"].startswith("/accounts/login/")
    response = client.post(f"/runbooks/{book.pk}/steps/remove", {"index": "0", "version": "1"})
    assert response.status_code == 302 and _version(book) == 1


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_runbook_of_100_steps_costs_the_editor_no_more_queries_than_one_of_3(responder: User,
                                                                              login: Any, book: Runbook) -> None:
    client = login(responder)
    long = editing.runbook_save(data={"name": "Long", "steps": [
        {"title": f"Check {i}", "action": "http_check", "params": {"url": f"http://svc-{i}:8080/health"}}
        for i in range(100)]}, actor=None)
    short_page = _queries(client, f"/runbooks/{book.pk}/")
    long_page = _queries(client, f"/runbooks/{long.pk}/")
    assert long_page == short_page
    assert _queries(client, f"/runbooks/{long.pk}/?edit=99") == _queries(client, f"/runbooks/{book.pk}/?edit=2")
    html = client.get(f"/runbooks/{long.pk}/").content.decode()
    assert html.count('data-testid="step-row"') == 100


def test_the_yaml_editor_and_the_download_stay(responder_client: Client, book: Runbook) -> None:
    page = responder_client.get(f"/runbooks/{book.pk}/yaml").content.decode()
    assert "name: Database recovery" in page and 'name="version" value="1"' in page
    download = responder_client.get(f"/runbooks/{book.pk}/export")
    assert download["Content-Disposition"] == 'attachment; filename="database-recovery.yaml"'
    assert b"action: approval" in download.content
    stale = responder_client.post(f"/runbooks/{book.pk}/yaml", {"version": "0", "yaml": download.content.decode()})
    assert stale.status_code == 409 and "changed while you edited v0" in stale.content.decode()
    saved = responder_client.post(f"/runbooks/{book.pk}/yaml", {"version": "1", "yaml": download.content.decode()})
    assert saved["Location"] == f"/runbooks/{book.pk}/yaml" and _version(book) == 2
