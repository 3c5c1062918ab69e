"""The editor's step form is built from each action's FIELDS: every parameter a step can hold has an
input, and a step opened and saved unchanged comes back exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict

from opsportal.lib.exceptions import ApplicationError
from runbooks import actions, editing, step_forms
from runbooks.yaml_io import EXAMPLES_DIR, runbooks_parse

from .conftest import ECHO_ARGS

EVERY_KIND = [
    {"title": "Health", "action": "http_check", "params": {
        "method": "HEAD", "url": "http://db-proxy:8080/health", "expect_status": 200, "expect_body": "OK",
        "timeout": 2.5, "headers": {"X-Env": "prod"}, "follow_redirects": True}},
    {"title": "Restart", "action": "http_request", "timeout_seconds": 90, "retries": 2, "on_failure": "continue",
     "params": {"method": "PUT", "url": "http://ops-api/restart/{{ labels.service }}",
                "body": '{"service": {{ labels.service | tojson }}}', "timeout": 30}},
    {"title": "Port", "action": "tcp_check", "params": {"host": "{{ labels.instance }}", "port": 5432}},
    {"title": "Args", "action": "command", "params": {"argv": [ECHO_ARGS, "--service", "{{ labels.service }}"]}},
    {"title": "Settle", "action": "wait", "params": {"seconds": 30}},
    {"title": "Look", "action": "manual", "needs_approval": True, "params": {"instructions": "Check the graphs."}},
    {"title": "Go?", "action": "approval"},
    {"title": "Tell", "action": "notify", "params": {"message": "Restarted {{ labels.service }}."}},
]


def _round_trip(step: dict[str, Any]) -> dict[str, Any]:
    """Open the stored step in the form, post the form as a browser would, read it back."""
    form = step_forms.from_step(step, index=0, key="0")
    post = QueryDict(mutable=True)
    for name, value in form.values.items():
        if value is True:
            post[name] = "1"
        elif value is not False:
            post[name] = value
    post["action"] = form.action
    return step_forms.from_post(post, index=0).to_step()


@pytest.mark.usefixtures("commands")
def test_every_parameter_of_every_action_survives_the_form_unchanged() -> None:
    clean = editing.runbook_validate({"name": "All", "steps": EVERY_KIND}).steps
    assert {s["action"] for s in clean} == set(actions.ACTIONS)
    for step in clean:
        assert editing.step_validate(_round_trip(step), 0) == step


@pytest.mark.django_db
def test_the_shipped_examples_survive_the_form_unchanged() -> None:
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        for item in runbooks_parse(path.read_text()):
            for step in editing.runbook_validate(item).steps:
                assert editing.step_validate(_round_trip(step), 0) == step, (path.name, step["title"])


def test_text_that_is_not_a_number_reaches_the_validator_which_names_the_field() -> None:
    post = QueryDict(mutable=True)
    post.update({"title": "Port", "action": "tcp_check", "p_host": "db", "p_port": "five", "timeout_seconds": "soon"})
    step = step_forms.from_post(post, index=None).to_step()
    assert step["params"]["port"] == "five" and step["timeout_seconds"] == "soon"
    with pytest.raises(ApplicationError) as refused:
        editing.step_validate(step, 3)
    assert refused.value.extra["field"] == "steps[3].params.port"


def test_a_header_line_without_equals_is_refused_naming_the_field() -> None:
    post = QueryDict(mutable=True)
    post.update({"title": "H", "action": "http_check", "p_url": "http://x/", "p_headers": "X-Env: prod"})
    with pytest.raises(ApplicationError) as refused:
        step_forms.from_post(post, index=None).to_step()
    assert refused.value.extra["field"] == "params.headers"


@pytest.mark.parametrize(("error_field", "index", "shown_at"), [
    ("steps[2].params.url", 2, "url"),
    ("steps[2].params.headers.X-Token", 2, "headers"),
    ("steps[2].params.argv[0]", 2, "argv"),
    ("steps[2].timeout_seconds", 2, "timeout_seconds"),
    ("steps[1].params.url", 2, ""),  # another step's: above the form
    ("name", 2, "name"),
])
def test_an_errors_field_is_mapped_to_the_input_it_names(error_field: str, index: int, shown_at: str) -> None:
    assert step_forms.field_of(error_field, index) == shown_at


def test_the_program_choices_are_the_allow_list_and_a_program_no_longer_on_it_stays_visible(settings) -> None:
    settings.RUNBOOK_COMMAND_ALLOWLIST = ["/usr/local/bin/restart-service"]
    form = step_forms.from_step({"title": "Old", "action": "command", "timeout_seconds": 30, "retries": 0,
                                 "on_failure": "stop", "needs_approval": False,
                                 "params": {"argv": ["/opt/old-tool", "x"]}}, index=0, key="0")
    argv = form.params[0]
    assert argv.options == ("/usr/local/bin/restart-service", "/opt/old-tool")
    assert argv.value == "/opt/old-tool" and argv.args == "x"


def test_the_list_shows_one_line_per_step() -> None:
    assert step_forms.summary("http_check", {"method": "GET", "url": "http://db:8080/health", "expect_status": 200}) \
        == "GET · http://db:8080/health · Expected status 200"
    assert step_forms.summary("command", {"argv": ["/bin/echo", "hi"]}) == "/bin/echo hi"
    assert step_forms.summary("approval", {}) == ""
