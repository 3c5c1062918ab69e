"""Property test over the whole REST API: schemathesis reads our OpenAPI document and drives every
operation with generated input (valid and invalid bodies, path and query parameters). Whatever
arrives, the answer is never a 5xx; input the schema forbids (a number for a text field,
``offset=null``) is refused with a 4xx rather than coerced; every refusal is JSON in the
project's error shape."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection

from incidents.api.tokens import api_token_issue
from opsportal.wsgi import application

pytestmark = pytest.mark.django_db

# Bounded so the suite stays fast: 14 operations x this many examples, each a real request.
PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture
def api_schema(db):
    # The real WSGI app, called in this thread: keep the test's database connection (and its
    # transaction) open across requests, as Django's own test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def bearer(responder) -> dict[str, str]:
    _, token = api_token_issue(user=responder)
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@PROPERTY_SETTINGS
def test_it_never_answers_5xx_and_refuses_in_json(case: Any, bearer: dict[str, str], incident: Any) -> None:
    response = case.call_and_validate(headers=bearer, checks=[not_a_server_error, negative_data_rejection])

    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    if response.status_code >= 400 and response.status_code != 405:
        error = response.json()["error"]
        assert error["code"] and error["message"].strip(), response.text[:500]
