"""Alert groups become incidents: the captured Alertmanager posts replayed through the webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone as dj_timezone

from incidents.integrations.alertmanager.models import Alert, AlertStatus, WebhookDelivery
from incidents.lifecycle import incident_close, incident_resolve
from incidents.models import EventKind, Incident, Severity, Source, Status, TimelineEvent
from incidents.registry import registry

from .webhook_support import Hook, alert, captured_bodies, make_hook, payload

pytestmark = pytest.mark.django_db

RUN1 = captured_bodies("run1")  # fire, grow group, partial resolve, final resolve
TRUNCATE = captured_bodies("retry_truncate")
TIMEOUT = captured_bodies("resolve_timeout")


def events(incident: Incident, kind: str) -> list[TimelineEvent]:
    return list(incident.events.filter(kind=kind).order_by("created_at", "id"))


def test_it_opens_an_incident_for_a_firing_group(hook: Hook) -> None:
    response = hook.post(RUN1[0])

    assert response.status_code == 200
    incident = Incident.objects.get()
    assert response.json() == {
        "status": "ok", "incident": incident.pk, "action": "opened", "alerts": 1, "incidents": [incident.pk]
    }
    assert incident.title == "5xx rate above 5% (checkout)"
    assert incident.description == "checkout 5xx ratio is 7.2% for 10m"
    assert incident.severity.name == "P1"  # severity="critical"
    assert incident.source == Source.ALERTMANAGER
    assert incident.status == Status.TRIGGERED
    assert incident.labels["alertname"] == "HighErrorRate"
    row = Alert.objects.get()
    assert (row.incident, row.fingerprint, row.status) == (incident, "f7ca8b2ae37f4b50", AlertStatus.FIRING)
    assert row.labels["instance"] == "web-1:8080"
    assert row.annotations["runbook_url"] == "https://runbooks.example/checkout"
    assert row.generator_url.startswith("http://prometheus.example:9090/graph")
    assert row.starts_at == datetime(2026, 11, 23, 9, 3, 6, tzinfo=UTC)
    assert row.ends_at is None  # Go zero time "0001-01-01T00:00:00Z" means no end
    assert row.times_received == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.incident == incident and delivery.alert_count == 1
    # One timeline entry says it opened and with which alert (no second "1 alert firing" entry).
    opened = TimelineEvent.objects.get(incident=incident)
    assert (opened.kind, opened.message) == (EventKind.OPENED, "Opened as P1 Critical. 1 alert firing: web-1:8080.")
    assert opened.data["joined"] == ["f7ca8b2ae37f4b50"]
    # The raw post is kept exactly as Alertmanager sent it, for debugging what it said.
    assert delivery.body.encode() == RUN1[0]


def test_it_adds_a_new_alert_of_the_group_to_the_same_incident_with_an_event(hook: Hook) -> None:
    hook.post(RUN1[0])
    response = hook.post(RUN1[1])

    incident = Incident.objects.get()
    assert response.json()["action"] == "updated"
    assert response.json()["incident"] == incident.pk
    assert incident.alerts.count() == 2
    joined = events(incident, EventKind.ALERTS)[-1]
    assert joined.message == "1 alert firing: web-2:8080."
    assert joined.data["joined"] == ["35168abc2368c313"]
    web2 = incident.alerts.get(fingerprint="35168abc2368c313")
    # 9-digit fraction from Prometheus/amtool: truncated to microseconds, not rejected.
    assert web2.starts_at == datetime(2026, 11, 23, 9, 3, 18, 359775, tzinfo=UTC)


def test_it_records_a_partial_resolution_and_keeps_the_incident_open(hook: Hook) -> None:
    for body in RUN1[:3]:
        response = hook.post(body)

    incident = Incident.objects.get()
    assert response.json()["action"] == "updated"
    assert incident.status == Status.TRIGGERED
    web1 = incident.alerts.get(fingerprint="f7ca8b2ae37f4b50")
    assert web1.status == AlertStatus.RESOLVED
    assert web1.ends_at == datetime(2026, 11, 23, 9, 3, 33, tzinfo=UTC)
    assert incident.alerts.get(fingerprint="35168abc2368c313").status == AlertStatus.FIRING
    assert events(incident, EventKind.ALERTS)[-1].message == "1 alert resolved: web-1:8080."


def test_it_resolves_the_incident_when_the_last_alert_resolves(hook: Hook) -> None:
    for body in RUN1:
        response = hook.post(body)

    incident = Incident.objects.get()
    assert response.json() == {
        "status": "ok", "incident": incident.pk, "action": "resolved", "alerts": 1, "incidents": [incident.pk]
    }
    assert incident.status == Status.RESOLVED
    assert set(incident.alerts.values_list("status", flat=True)) == {AlertStatus.RESOLVED}
    resolved = events(incident, EventKind.RESOLVED)
    assert len(resolved) == 1
    assert resolved[0].source == Source.ALERTMANAGER
    assert "All alerts resolved" in resolved[0].message


def test_it_keeps_the_incident_open_when_auto_resolve_is_off(db) -> None:
    hook = make_hook(auto_resolve=False)
    for body in RUN1:
        hook.post(body)

    incident = Incident.objects.get()
    assert incident.status == Status.TRIGGERED
    assert not incident.alerts.filter(status=AlertStatus.FIRING).exists()


def test_it_changes_nothing_but_last_seen_for_a_byte_identical_repeat(hook: Hook) -> None:
    hook.post(RUN1[0])
    hook.post(RUN1[1])
    incident = Incident.objects.get()
    before_events = list(incident.events.values_list("pk", flat=True))
    before_rows = {a.fingerprint: a for a in incident.alerts.all()}
    updated_at = incident.updated_at

    response = hook.post(RUN1[1])

    assert response.json()["action"] == "unchanged"
    assert response.json()["incident"] == incident.pk
    incident.refresh_from_db()
    assert incident.updated_at == updated_at
    assert list(incident.events.values_list("pk", flat=True)) == before_events
    for row in incident.alerts.all():
        old = before_rows[row.fingerprint]
        assert (row.status, row.labels, row.annotations, row.starts_at, row.ends_at) == (
            old.status, old.labels, old.annotations, old.starts_at, old.ends_at
        )
        assert row.times_received == old.times_received + 1
        assert row.last_seen_at >= old.last_seen_at
    assert Incident.objects.count() == 1
    assert WebhookDelivery.objects.count() == 3  # every delivery is kept for debugging


def test_a_repeat_finds_alerts_whose_fingerprints_need_quoting(hook: Hook) -> None:
    # Fingerprints other senders make up: quotes, backslashes, commas, braces, "NULL", spaces.
    odd = ['a"b', "c\\d", "x,y", "{z}", "NULL", " sp ", "é"]
    body = payload([alert(f"web-{n}", fingerprint=fp) for n, fp in enumerate(odd)])
    hook.post(body)

    response = hook.post(body)

    assert response.json()["action"] == "unchanged"
    rows = {a.fingerprint: a.times_received for a in Incident.objects.get().alerts.all()}
    assert rows == dict.fromkeys(odd, 2)


def test_it_records_truncated_alerts_and_says_so_once(hook: Hook) -> None:
    # The same truncated post arrived six times (two 500 retries, then repeats).
    for body in TRUNCATE:
        hook.post(body)

    incident = Incident.objects.get()
    assert incident.severity.name == "P3"  # severity="warning"
    assert incident.alerts.count() == 2
    assert set(WebhookDelivery.objects.values_list("truncated_alerts", flat=True)) == {1}
    notes = events(incident, EventKind.NOTE)
    assert len(notes) == 1
    assert "1 more alert(s)" in notes[0].message and "max_alerts" in notes[0].message
    # The post that opened the incident names its alerts in the "opened" entry; repeats add nothing.
    assert not events(incident, EventKind.ALERTS)
    assert "2 alerts firing" in events(incident, EventKind.OPENED)[0].message


def test_it_resolves_an_alert_from_a_sender_without_end_time_via_resolve_timeout(hook: Hook) -> None:
    hook.post(TIMEOUT[0])
    hook.post(TIMEOUT[1])  # the same group through a second receiver: a repeat
    response = hook.post(TIMEOUT[2])

    assert response.json()["action"] == "resolved"
    row = Alert.objects.get()
    assert row.starts_at == datetime(2026, 11, 23, 9, 5, 56, 190598, tzinfo=UTC)
    assert row.ends_at == datetime(2026, 11, 23, 9, 6, 6, 190598, tzinfo=UTC)
    assert row.times_received == 3


def test_it_reopens_a_resolved_incident_that_fires_again_within_the_window(hook: Hook) -> None:
    for body in RUN1:
        hook.post(body)
    incident = Incident.objects.get()
    assert incident.status == Status.RESOLVED

    refire = payload([alert("web-1:8080", fingerprint="f7ca8b2ae37f4b50", starts_at="2026-11-23T10:00:00Z")])
    response = hook.post(refire)

    assert response.json()["action"] == "reopened"
    assert response.json()["incident"] == incident.pk
    incident.refresh_from_db()
    assert incident.status == Status.TRIGGERED
    assert Incident.objects.count() == 1
    assert len(events(incident, EventKind.REOPENED)) == 1
    assert incident.alerts.get(fingerprint="f7ca8b2ae37f4b50").status == AlertStatus.FIRING
    assert "firing again" in events(incident, EventKind.ALERTS)[-1].message


def test_it_opens_a_new_incident_when_the_group_fires_after_the_reopen_window(hook: Hook) -> None:
    for body in RUN1:
        hook.post(body)
    old = Incident.objects.get()
    Incident.objects.filter(pk=old.pk).update(resolved_at=dj_timezone.now() - timedelta(hours=2))

    response = hook.post(payload([alert("web-1:8080", fingerprint="f7ca8b2ae37f4b50")]))

    assert response.json()["action"] == "opened"
    new = Incident.objects.exclude(pk=old.pk).get()
    assert response.json()["incident"] == new.pk
    assert new.group_key == old.group_key
    old.refresh_from_db()
    assert old.status == Status.RESOLVED
    assert new.alerts.get().fingerprint == "f7ca8b2ae37f4b50"


def test_it_opens_a_new_incident_when_the_last_one_is_closed(hook: Hook) -> None:
    for body in RUN1:
        hook.post(body)
    old = Incident.objects.get()
    incident_close(incident=old, actor=None, source=Source.WEB)

    response = hook.post(payload([alert("web-1:8080", fingerprint="f7ca8b2ae37f4b50", starts_at="2026-11-23T11:00:00Z")]))

    assert response.json()["action"] == "opened"
    assert Incident.objects.count() == 2


def test_it_does_not_reopen_an_incident_resolved_by_hand_for_a_repeat_of_the_same_alerts(hook: Hook) -> None:
    hook.post(RUN1[0])
    incident = Incident.objects.get()
    incident_resolve(incident=incident, actor=None, source=Source.WEB, note="Known noise.")

    response = hook.post(RUN1[0])  # repeat_interval re-sends the still-firing group

    assert response.json()["action"] == "unchanged"
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    assert Incident.objects.count() == 1
    assert Alert.objects.get().times_received == 2


def test_it_groups_by_groupkey_so_another_group_gets_another_incident(hook: Hook) -> None:
    hook.post(payload([alert("web-1")]))
    hook.post(payload([alert("db-1", alertname="DiskFull")], group_key='{}:{alertname="DiskFull"}'))

    assert Incident.objects.count() == 2


def test_it_groups_by_the_configured_labels_across_group_keys(db) -> None:
    hook = make_hook(grouping="labels", group_by_labels=["service"])
    first = hook.post(payload([alert("web-1", alertname="HighErrorRate")], group_key="a"))
    second = hook.post(payload([alert("web-1", alertname="HighLatency")], group_key="b"))
    other = hook.post(payload([alert("db-1", service="db")], group_key="c"))

    assert first.json()["action"] == "opened"
    assert second.json()["action"] == "updated"
    assert second.json()["incident"] == first.json()["incident"]
    assert other.json()["incident"] != first.json()["incident"]
    incident = Incident.objects.get(pk=first.json()["incident"])
    assert incident.alerts.count() == 2


def test_it_splits_one_post_into_an_incident_per_label_group(db) -> None:
    hook = make_hook(grouping="labels", group_by_labels=["instance"])
    response = hook.post(payload([alert("web-1"), alert("web-2"), alert("web-3")]))

    assert response.json()["action"] == "opened"
    assert len(response.json()["incidents"]) == 3
    assert Incident.objects.count() == 3
    assert {i.alerts.count() for i in Incident.objects.all()} == {1}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("critical", "P1"), ("error", "P2"), ("high", "P2"), ("warning", "P3"), ("info", "P4"), ("none", "P4"),
     ("CRITICAL", "P1"), ("bogus", "P4")],
)
def test_it_maps_the_severity_label_to_a_severity(hook: Hook, value: str, expected: str) -> None:
    hook.post(payload([alert("web-1", severity=value)]))

    assert Incident.objects.get().severity.name == expected


def test_it_uses_the_integrations_own_severity_mapping_and_default(db) -> None:
    p2 = Severity.objects.get(name="P2")
    hook = make_hook(severity_label="priority", severity_mapping={"page": "P1"}, default_severity=p2)
    hook.post(payload([alert("web-1", priority="page")], group_key="a"))
    hook.post(payload([alert("web-2", priority="whatever")], group_key="b"))

    assert [i.severity.name for i in Incident.objects.order_by("pk")] == ["P1", "P2"]


def test_it_opens_at_the_most_severe_alert_and_raises_severity_when_a_worse_alert_joins(hook: Hook) -> None:
    hook.post(payload([alert("web-1", severity="warning"), alert("web-2", severity="info")]))
    incident = Incident.objects.get()
    assert incident.severity.name == "P3"

    hook.post(payload([alert("web-1", severity="warning"), alert("web-3", severity="critical")]))

    incident.refresh_from_db()
    assert incident.severity.name == "P1"
    assert len(events(incident, EventKind.SEVERITY_CHANGED)) == 1


def test_it_counts_each_alerts_own_status_not_the_group_status(hook: Hook) -> None:
    # Group status "firing" while one alert in it is resolved (docs/alertmanager.md section 2).
    body = payload([alert("web-1", status="resolved", ends_at="2026-11-23T09:05:00Z"), alert("web-2")])
    hook.post(body)

    incident = Incident.objects.get()
    assert dict(incident.alerts.values_list("labels__instance", "status")) == {
        "web-1": "resolved", "web-2": "firing"
    }


def test_it_does_not_open_an_incident_for_a_group_that_only_resolves(hook: Hook) -> None:
    response = hook.post(payload([alert("web-1", status="resolved", ends_at="2026-11-23T09:05:00Z")]))

    assert response.status_code == 200
    assert response.json()["action"] == "unchanged"
    assert response.json()["incident"] is None
    assert not Incident.objects.exists()
    assert WebhookDelivery.objects.count() == 1


def test_it_uses_the_integrations_templates_for_title_and_description(db) -> None:
    hook = make_hook(
        title_template="[{{ commonLabels.severity | upper }}] {{ groupLabels.alertname }} x{{ alerts | length }}",
        description_template="{% for a in alerts %}{{ a.labels.instance }} {% endfor %}",
    )
    hook.post(payload([alert("web-1"), alert("web-2")]))

    incident = Incident.objects.get()
    assert incident.title == "[CRITICAL] HighErrorRate x2"
    assert incident.description == "web-1 web-2"


def test_it_falls_back_to_the_default_title_when_the_template_fails(db) -> None:
    hook = make_hook()
    hook.integration.title_template = "{{ no_such_name.x }}"  # saved around the validation, as an old row might be
    hook.integration.save()

    response = hook.post(RUN1[0])

    assert response.status_code == 200
    assert Incident.objects.get().title == "5xx rate above 5% (checkout)"


def test_it_handles_a_thousand_alerts_with_a_bounded_number_of_queries(
    hook: Hook, django_assert_max_num_queries
) -> None:
    body = payload([alert(f"web-{i}") for i in range(1000)])
    # Each registered message channel writes the "opened" message (a template lookup, its routes or
    # a preview, the conversation, the delivery): about 7 queries per channel, never per alert.
    with django_assert_max_num_queries(40 + 7 * len(registry.message_channels)):
        first = hook.post(body)
    with django_assert_max_num_queries(25):
        repeat = hook.post(body)

    assert first.json()["action"] == "opened"
    assert repeat.json()["action"] == "unchanged"
    assert Alert.objects.filter(incident__isnull=False).count() == 1000
    assert set(Alert.objects.values_list("times_received", flat=True)) == {2}


def test_it_accepts_ten_thousand_alerts_in_one_post(hook: Hook) -> None:
    body = payload([alert(f"node-{i}") for i in range(10_000)])

    response = hook.post(body)

    assert response.status_code == 200, response.content[:300]
    assert response.json()["alerts"] == 10_000
    assert Alert.objects.count() == 10_000
    assert Incident.objects.count() == 1


def test_it_still_opens_incidents_when_the_severity_table_is_empty(hook: Hook) -> None:
    Severity.objects.all().delete()

    response = hook.post(RUN1[0])

    assert response.status_code == 200
    assert Incident.objects.get().severity.name == "P1"


def test_it_uses_the_arrival_time_when_an_alert_has_no_start(hook: Hook) -> None:
    before = dj_timezone.now()
    hook.post(payload([alert("web-1", starts_at="0001-01-01T00:00:00Z")]))

    row = Alert.objects.get()
    assert before <= row.starts_at <= dj_timezone.now()
    assert row.first_seen_at == row.starts_at


def test_it_leaves_a_closed_incident_alone_when_its_alerts_repeat(hook: Hook) -> None:
    hook.post(RUN1[0])
    incident = Incident.objects.get()
    incident_resolve(incident=incident, actor=None, source=Source.WEB)
    incident_close(incident=incident, actor=None, source=Source.WEB)
    events_before = incident.events.count()

    response = hook.post(RUN1[0])

    assert response.json()["action"] == "unchanged"
    assert Incident.objects.count() == 1
    assert incident.events.count() == events_before


@pytest.mark.postgres
def test_a_large_raw_post_is_kept_whole_and_compressed_with_lz4(hook: Hook) -> None:
    """A storm post's raw body is stored compressed (lz4: half the database's CPU of its default)
    and reads back byte for byte."""
    from django.db import connection

    data = payload([alert(f"node-{n}") for n in range(300)])
    assert hook.post(data).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_column_compression(body), pg_column_size(body), length(body) "
                       "FROM alertmanager_webhookdelivery")
        method, stored, length = cursor.fetchone()
    assert method == "lz4" and stored < length / 4
    assert json.loads(WebhookDelivery.objects.get().body) == data
