"""Runbooks in a real browser: a runbook built step by step in the editor (forms per action, reorder,
an inline error), and the run panel of an incident following a real Celery worker live while a
commander approves a step."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from incidents import lifecycle
from incidents.models import Source
from runbooks import editing
from runbooks.models import Runbook, RunbookRun
from tests.runbooks.conftest import Target, target  # noqa: F401 - the local HTTP target fixture
from tests.runbooks.worker import start_worker, stop, worker_log

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("severities"),
]
# The run panel polls every 3 s; a step's worker round trip comes on top.
LIVE = 30_000


def _htmx_idle(page: Page) -> None:
    """Until htmx has swapped and settled what the last request brought: a change made in the
    moment before it binds the new elements would be lost (a person is never that quick)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def _add_step(page: Page, action: str, title: str, **params: str) -> None:
    _htmx_idle(page)
    page.get_by_label("Add a step").select_option(label=action)
    form = page.locator("#new-step")
    expect(form.get_by_role("heading", name="New step")).to_be_visible()
    form.get_by_label("Title").fill(title)
    for label, value in params.items():
        form.get_by_label(label.replace("_", " ")).fill(value)
    form.get_by_role("button", name="Save step").click()
    expect(page.locator("#new-step")).to_be_empty()


def test_it_builds_reorders_and_checks_a_runbook_in_the_editor(signed_in_page, live_server):
    page = signed_in_page
    page.goto(f"{live_server.url}/runbooks/")
    page.get_by_role("link", name="New runbook").click()
    page.get_by_label("Name").fill("Checkout recovery")
    page.get_by_label("Title").fill("Health")
    page.get_by_label("URL").fill("http://checkout:8080/health")
    page.get_by_label("Expected status").fill("200")
    page.get_by_role("button", name="Create runbook").click()
    book = Runbook.objects.get(name="Checkout recovery")
    page.wait_for_url(f"{live_server.url}/runbooks/{book.pk}/")
    page.evaluate("window.stillTheSamePage = true")

    # Choosing an action brings its own parameter form.
    page.get_by_label("Add a step").select_option(label="TCP check")
    expect(page.locator("#new-step").get_by_label("Port")).to_be_visible()
    page.get_by_label("Add a step").select_option(label="Wait")
    expect(page.locator("#new-step").get_by_label("Port")).to_have_count(0)
    expect(page.locator("#new-step").get_by_label("Seconds")).to_be_visible()
    page.locator("#new-step").get_by_role("link", name="Cancel").click()
    expect(page.locator("#new-step")).to_be_empty()

    _add_step(page, "HTTP request", "Restart", URL="http://ops-api/restart",
              JSON_body='{"service": {{ labels.service | tojson }}}')
    _add_step(page, "Approval", "Approve the restart")
    titles = page.get_by_test_id("step-title")
    expect(titles).to_have_text(["Health", "Restart", "Approve the restart"])
    expect(page.get_by_test_id("runbook-version")).to_have_text("v3")

    # The approval goes before the restart.
    page.get_by_role("button", name="Move step 3 up").click()
    expect(titles).to_have_text(["Health", "Approve the restart", "Restart"])
    expect(page.get_by_test_id("editor-notice")).to_have_text("Moved step 3 up (now v4).")

    # A URL the server would never call: the error sits at the URL, and nothing is saved.
    page.get_by_role("link", name="Edit step 1").click()
    step = page.locator("#step-0")
    step.get_by_label("URL").fill("http://169.254.169.254/latest/meta-data/")
    step.get_by_role("button", name="Save step").click()
    url = step.get_by_label("URL")
    expect(url).to_have_attribute("aria-invalid", "true")
    expect(step.locator("#s0-p-url-error")).to_contain_text("link-local address")
    expect(url).to_have_value("http://169.254.169.254/latest/meta-data/")
    step.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("step-row").first).to_contain_text("http://checkout:8080/health")

    assert page.evaluate("window.stillTheSamePage") is True
    book.refresh_from_db()
    assert book.version == 4
    assert [(s.title, s.action) for s in book.steps.order_by("order")] == [
        ("Health", "http_check"), ("Approve the restart", "approval"), ("Restart", "http_request")]
    assert book.steps.get(title="Restart").params["body"] == '{"service": {{ labels.service | tojson }}}'


@pytest.mark.postgres
@pytest.mark.redis
def test_the_run_panel_follows_a_real_worker_live_through_an_approval(
        signed_in_page, live_server, p3, data_dir: Path,
        target: Target,  # noqa: F811 - the fixture imported above
):
    book = editing.runbook_save(data={"name": "Orders DB recovery", "steps": [
        {"title": "Health before", "action": "http_check", "params": {"url": target.url + "/before"}},
        {"title": "Approve the restart", "action": "approval"},
        {"title": "Restart", "action": "http_request", "params": {"url": target.url + "/slow/restart"}},
        {"title": "Health after", "action": "http_check", "params": {"url": target.url + "/after"}},
    ]}, actor=None)
    incident = lifecycle.incident_open(title="Orders DB down", severity=p3, source=Source.WEB,
                                       labels={"service": "orders-db"})
    worker = start_worker(data_dir)
    try:
        page = signed_in_page
        page.goto(f"{live_server.url}/incidents/{incident.pk}/")
        page.evaluate("window.stillTheSamePage = true")
        panel = page.locator("#runbook-runs")
        panel.get_by_label("Run a runbook").select_option(label=book.name)
        panel.get_by_role("button", name="Start").click()
        expect(panel.locator("article.runbook-run")).to_have_count(1)

        run = RunbookRun.objects.get(incident=incident)
        steps = page.get_by_test_id(f"run-{run.pk}").locator("li")
        # The worker runs the first check; the panel shows it without a click.
        expect(steps.nth(0)).to_have_attribute("data-status", "succeeded", timeout=LIVE)
        expect(steps.nth(1)).to_have_attribute("data-status", "waiting_approval", timeout=LIVE)
        expect(steps.nth(2)).to_have_attribute("data-status", "pending")

        steps.nth(1).get_by_role("button", name="Approve").click()
        expect(steps.nth(1)).to_contain_text("approved by responder")
        expect(steps.nth(2)).to_have_attribute("data-status", "running")
        # The restart takes its time in the worker; the panel follows by itself.
        expect(steps.nth(2)).to_have_attribute("data-status", "succeeded", timeout=LIVE)
        expect(steps.nth(3)).to_have_attribute("data-status", "succeeded", timeout=LIVE)
        expect(page.get_by_test_id(f"run-{run.pk}")).to_have_attribute("data-status", "succeeded", timeout=LIVE)
        assert page.evaluate("window.stillTheSamePage") is True
    except Exception:
        print(worker_log(data_dir))  # shown with the failure
        raise
    finally:
        stop(worker)
    assert [r["path"] for r in target.requests] == ["/before", "/slow/restart", "/after"]


def test_the_editor_works_without_javascript(new_page, live_server, responder):
    book = editing.runbook_save(data={"name": "Plain", "steps": [
        {"title": "Health", "action": "http_check", "params": {"url": "http://checkout:8080/health"}},
        {"title": "Approve", "action": "approval"}]}, actor=None)
    page = new_page(responder, java_script_enabled=False)
    page.goto(f"{live_server.url}/runbooks/{book.pk}/")
    page.get_by_role("button", name="Move step 2 up").click()
    expect(page.get_by_test_id("step-title")).to_have_text(["Approve", "Health"])

    page.get_by_label("Add a step").select_option(label="Wait")
    page.get_by_role("button", name="Add step").click()
    form = page.locator("#new-step")
    form.get_by_label("Title").fill("Settle")
    form.get_by_label("Seconds").fill("soon")
    form.get_by_role("button", name="Save step").click()
    expect(page.locator("#new-step").locator("[data-param=seconds] .form-error")).to_contain_text(
        "seconds must be a number")
    page.locator("#new-step").get_by_label("Seconds").fill("20")
    page.locator("#new-step").get_by_role("button", name="Save step").click()
    expect(page.get_by_test_id("step-title")).to_have_text(["Approve", "Health", "Settle"])
    assert Runbook.objects.get(pk=book.pk).version == 3
