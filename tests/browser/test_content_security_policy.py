"""The Content Security Policy is sent and every page still works under it: chromium reports no
violation on the incident pages, the integration pages, the API docs (Swagger UI) or the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from incidents import lifecycle
from incidents.integrations.alertmanager.integration import integration_create
from incidents.models import Source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("severities")]

VIOLATION_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
  e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));
"""


def test_no_page_breaks_the_content_security_policy(browser, live_server, p1, responder, login) -> None:
    get_user_model().objects.filter(pk=responder.pk).update(is_staff=True, is_superuser=True)
    incident = lifecycle.incident_open(title="Disk full on db-1", severity=p1, source=Source.WEB)
    integration, _ = integration_create(name="prod-am")
    context = browser.new_context()
    session = login(responder).cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    context.add_init_script(VIOLATION_LISTENER)
    page = context.new_page()
    console = []
    page.on("console", lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None)
    pages = ["/", f"/incidents/{incident.pk}/", "/incidents/new", "/integrations/",
             f"/integrations/alertmanager/{integration.pk}/", "/integrations/maintenance/", "/api/v1/docs/", "/admin/", "/admin/incidents/incident/"]

    for path in pages:
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__cspViolations") == [], path
    page.goto(live_server.url + "/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title")  # Swagger UI's script ran and drew the page
    # The rotate button still asks first (the question moved from an inline onsubmit to data-confirm).
    page.goto(live_server.url + f"/integrations/alertmanager/{integration.pk}/")
    questions: list[str] = []
    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer)
    page.click("text=Rotate token")
    page.wait_for_load_state("networkidle")
    integration.refresh_from_db()
    assert questions == ["Rotate the token? The current token stops working at once."]
    assert integration.token_rotated_at is None
    assert console == []
    context.close()
