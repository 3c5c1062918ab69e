"""POST /hooks/alertmanager: who may post, what is refused (with the problem named), and that a
refused post stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings

from incidents.integrations.alertmanager.models import Alert, WebhookDelivery
from incidents.integrations.alertmanager.tokens import integration_rotate_token
from incidents.models import Incident

from .webhook_support import URL, Hook, alert, captured_bodies, payload

pytestmark = pytest.mark.django_db

FIRE = captured_bodies("run1")[0]


def nothing_stored() -> bool:
    return not (Incident.objects.exists() or Alert.objects.exists() or WebhookDelivery.objects.exists())


def refused(response: Any, status: int, *fragments: str) -> None:
    assert response.status_code == status, response.content[:500]
    error = response.json()["error"]
    for fragment in fragments:
        assert fragment in error["message"], error
    assert nothing_stored()


def test_it_refuses_a_post_without_a_token(hook: Hook) -> None:
    response = hook.post(FIRE, token=False)

    refused(response, 401, "Authorization: Bearer")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_a_wrong_token(hook: Hook) -> None:
    refused(hook.post(FIRE, token="amk_not-the-token"), 401, "not valid")


def test_it_refuses_a_basic_auth_header(hook: Hook) -> None:
    response = hook.client.post(URL, data=FIRE, content_type="application/json", HTTP_AUTHORIZATION="Basic dXNlcjpw")

    refused(response, 401)


def test_it_refuses_the_old_token_after_rotation(hook: Hook) -> None:
    old = hook.token
    new = integration_rotate_token(integration=hook.integration)

    refused(hook.post(FIRE, token=old), 401)
    assert hook.post(FIRE, token=new).status_code == 200


def test_it_forbids_a_disabled_integration(hook: Hook) -> None:
    hook.integration.enabled = False
    hook.integration.save()

    refused(hook.post(FIRE), 403, "disabled")


def test_it_refuses_a_wrong_content_type(hook: Hook) -> None:
    refused(hook.post(FIRE, content_type="text/plain"), 415, "application/json")


def test_it_refuses_a_form_post(hook: Hook) -> None:
    response = hook.client.post(URL, data={"a": "b"}, HTTP_AUTHORIZATION=f"Bearer {hook.token}")

    refused(response, 415)


def test_it_refuses_a_body_that_is_not_json(hook: Hook) -> None:
    refused(hook.post(b"{not json"), 400, "not valid JSON")


def test_it_refuses_an_empty_body(hook: Hook) -> None:
    refused(hook.post(b"", CONTENT_TYPE="application/json"), 400, "empty")


def test_it_refuses_a_body_that_is_not_utf8(hook: Hook) -> None:
    refused(hook.post(b'{"version": "\xff"}'), 400, "UTF-8")


def test_it_refuses_nan_in_the_body(hook: Hook) -> None:
    body = FIRE.replace(b'"truncatedAlerts":0', b'"truncatedAlerts":NaN')

    refused(hook.post(body), 400, "NaN")


def test_it_refuses_a_json_array(hook: Hook) -> None:
    refused(hook.post(b"[]"), 400, "must be a JSON object")


@override_settings(ALERTMANAGER_MAX_BODY_BYTES=1000)
def test_it_refuses_a_body_over_the_size_limit(hook: Hook) -> None:
    body = payload([alert(f"web-{i}") for i in range(10)])

    refused(hook.post(body), 413, "limit is 1000", "max_alerts")


@override_settings(ALERTMANAGER_MAX_ALERTS=5)
def test_it_refuses_more_alerts_than_the_limit_with_413(hook: Hook) -> None:
    refused(hook.post(payload([alert(f"web-{i}") for i in range(6)])), 413, "6 alerts", "limit is 5")


def test_it_refuses_a_wrong_version(hook: Hook) -> None:
    refused(hook.post(payload([alert("web-1")], version="3")), 400, 'version must be "4"')


@pytest.mark.parametrize("field", ["version", "status", "alerts", "groupKey"])
def test_it_refuses_a_payload_missing_a_required_field(hook: Hook, field: str) -> None:
    body = payload([alert("web-1")])
    del body[field]

    refused(hook.post(body), 400, f"{field} is required")


@pytest.mark.parametrize("field", ["labels", "startsAt"])  # a missing status comes from endsAt
def test_it_refuses_an_alert_missing_a_required_field(hook: Hook, field: str) -> None:
    body = payload([alert("web-1"), alert("web-2")])
    del body["alerts"][1][field]

    refused(hook.post(body), 400, f"alerts[1].{field} is required")


def test_it_refuses_alerts_that_are_not_a_list(hook: Hook) -> None:
    body = payload([alert("web-1")])
    body["alerts"] = {"0": alert("web-1")}

    refused(hook.post(body), 400, "alerts must be a list, not an object")


def test_it_refuses_an_alert_that_is_not_an_object(hook: Hook) -> None:
    body = payload([alert("web-1")])
    body["alerts"].append("web-2")

    refused(hook.post(body), 400, "alerts[1] must be an object")


def test_it_names_a_label_value_that_is_not_a_string(hook: Hook) -> None:
    body = payload([alert(f"web-{i}") for i in range(5)])
    body["alerts"][3]["labels"]["severity"] = 2

    refused(hook.post(body), 400, "alerts[3].labels.severity must be a string")


def test_it_refuses_labels_that_are_not_an_object(hook: Hook) -> None:
    body = payload([alert("web-1")])
    body["alerts"][0]["labels"] = ["alertname", "x"]

    refused(hook.post(body), 400, "alerts[0].labels must be an object")


def test_it_refuses_annotations_that_are_not_strings(hook: Hook) -> None:
    body = payload([alert("web-1")])
    body["alerts"][0]["annotations"]["summary"] = {"text": "x"}

    refused(hook.post(body), 400, "alerts[0].annotations.summary must be a string")


def test_it_refuses_common_labels_that_are_not_strings(hook: Hook) -> None:
    refused(hook.post(payload([alert("web-1")], commonLabels={"a": None})), 400, "commonLabels.a must be a string")


def test_it_refuses_an_unknown_status(hook: Hook) -> None:
    body = payload([alert("web-1")])
    body["alerts"][0]["status"] = "pending"

    refused(hook.post(body), 400, 'alerts[0].status must be "firing" or "resolved", not "pending"')


def test_it_refuses_a_group_key_of_the_wrong_type(hook: Hook) -> None:
    refused(hook.post(payload([alert("web-1")], groupKey=42)), 400, "groupKey must be a string, not a number")


def test_it_refuses_a_negative_truncated_count(hook: Hook) -> None:
    refused(hook.post(payload([alert("web-1")], truncatedAlerts=-1)), 400, "truncatedAlerts")


def test_it_refuses_a_boolean_truncated_count(hook: Hook) -> None:
    refused(hook.post(payload([alert("web-1")], truncatedAlerts=True)), 400, "truncatedAlerts")


@pytest.mark.parametrize(
    "value",
    ["yesterday", "2026-11-23 09:03:06", "2026-11-23T09:03:06", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
     "2026-11-23T25:00:00Z", "2026-11-23T09:03:06.1234567891Z", "0001-01-01T00:00:00+99:00"],
)
def test_it_refuses_an_invalid_timestamp(hook: Hook, value: str) -> None:
    body = payload([alert("web-1")])
    body["alerts"][0]["startsAt"] = value

    refused(hook.post(body), 400, "alerts[0].startsAt")


def test_it_refuses_a_timestamp_that_leaves_the_calendar_in_utc(hook: Hook) -> None:
    body = payload([alert("web-1")])
    body["alerts"][0]["startsAt"] = "9999-12-31T23:59:59-01:00"  # year 10000 in UTC

    refused(hook.post(body), 400, "alerts[0].startsAt is not a real date and time")


def test_it_refuses_an_end_before_the_start(hook: Hook) -> None:
    body = payload([alert("web-1", status="resolved", ends_at="2026-11-23T09:00:00Z")])

    refused(hook.post(body), 400, "alerts[0].endsAt", "before startsAt")


def test_it_refuses_the_same_fingerprint_twice_in_one_post(hook: Hook) -> None:
    body = payload([alert("web-1", fingerprint="aaaa"), alert("web-2", fingerprint="aaaa")])

    refused(hook.post(body), 400, "alerts[1].fingerprint repeats alerts[0].fingerprint")


def test_it_refuses_a_nul_character_anywhere(hook: Hook) -> None:
    body = payload([alert("web-1")], extra={"note": "a\u0000b"})

    refused(hook.post(body), 400, "extra.note must not contain NUL")


def test_it_refuses_an_unpaired_surrogate(hook: Hook) -> None:
    body = json.dumps(payload([alert("web-1")])).replace('"web-1 is unwell"', '"\\ud800"')

    refused(hook.post(body), 400, "surrogate")


def test_it_accepts_a_properly_paired_surrogate_escape(hook: Hook) -> None:
    body = json.dumps(payload([alert("web-1")])).replace('"web-1 is unwell"', '"\\ud83d\\udd25 on fire"')

    assert hook.post(body).status_code == 200
    assert Alert.objects.get().annotations["description"] == "\U0001f525 on fire"


def test_it_accepts_a_trailing_slash_and_charset(hook: Hook) -> None:
    response = hook.client.post(
        URL + "/", data=FIRE, content_type="application/json; charset=utf-8", HTTP_AUTHORIZATION=f"Bearer {hook.token}"
    )

    assert response.status_code == 200


def test_it_needs_no_csrf_token(hook: Hook) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(URL, data=FIRE, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {hook.token}")

    assert response.status_code == 200


def test_it_answers_503_with_retry_after_when_the_database_is_unavailable(hook: Hook) -> None:
    def unavailable(execute, sql, params, many, context):
        if "alertmanager_alert" in sql:
            raise OperationalError("could not connect to server: Connection refused")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(unavailable):
        response = hook.post(FIRE)

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "retry" in response.json()["error"]["message"]
    assert nothing_stored()  # the incident opened before the failure was rolled back
    assert hook.post(FIRE).status_code == 200  # Alertmanager's retry then succeeds


def test_it_answers_405_to_get(hook: Hook) -> None:
    assert hook.client.get(URL, HTTP_AUTHORIZATION=f"Bearer {hook.token}").status_code == 405
