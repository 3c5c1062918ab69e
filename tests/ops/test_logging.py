"""Log lines are JSON and carry the request id that the response hands back."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from typing import Any, cast

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_it_logs_json_lines_with_the_request_id(responder_client):
    stream = io.StringIO()
    handlers = cast(dict[str, dict[str, Any]], settings.LOGGING["handlers"])
    config = {**settings.LOGGING, "handlers": {"console": {**handlers["console"], "formatter": "json", "stream": stream}}}
    logging.config.dictConfig(config)
    try:
        response = responder_client.get("/no-such-page")  # Django logs every 404 on django.request
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    not_found = [line for line in lines if line.get("name") == "django.request"]
    assert not_found, stream.getvalue()
    assert not_found[0]["request_id"] == request_id
    assert not_found[0]["level"] == "WARNING" and "Not Found" in not_found[0]["message"]


def test_it_keeps_a_request_id_sent_by_a_proxy(client):
    response = client.get("/health", headers={"X-Request-ID": "abc123"})
    assert response["X-Request-ID"] == "abc123"
