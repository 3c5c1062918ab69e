"""Raw webhook bodies are kept for a bounded time and number of rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from incidents.integrations.alertmanager.models import WebhookDelivery
from incidents.integrations.alertmanager.tasks import alertmanager_prune_deliveries

from .webhook_support import Hook, alert, payload

pytestmark = pytest.mark.django_db


def test_it_deletes_deliveries_older_than_the_retention(hook: Hook) -> None:
    for _ in range(3):
        hook.post(payload([alert("web-1")]))
    old = WebhookDelivery.objects.order_by("pk")[0]
    WebhookDelivery.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=8))

    assert alertmanager_prune_deliveries() == 1

    assert WebhookDelivery.objects.count() == 2
    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()


@override_settings(ALERTMANAGER_DELIVERY_MAX_ROWS=2)
def test_it_keeps_only_the_newest_rows_beyond_the_cap(hook: Hook) -> None:
    for _ in range(5):
        hook.post(payload([alert("web-1")]))
    newest = list(WebhookDelivery.objects.order_by("-received_at", "-pk").values_list("pk", flat=True)[:2])

    assert alertmanager_prune_deliveries() == 3

    assert sorted(WebhookDelivery.objects.values_list("pk", flat=True)) == sorted(newest)


def test_it_keeps_the_incident_when_its_deliveries_go(hook: Hook) -> None:
    hook.post(payload([alert("web-1")]))
    WebhookDelivery.objects.update(received_at=timezone.now() - timedelta(days=30))

    alertmanager_prune_deliveries()

    assert hook.integration.alerts.get().incident is not None


def test_it_keeps_only_the_newest_bodies_within_the_byte_budget(hook: Hook, settings) -> None:
    for i in range(5):
        hook.post(payload([alert(f"web-{i}-{j}") for j in range(50)]))
    newest = list(WebhookDelivery.objects.order_by("-received_at", "-pk").values_list("pk", flat=True))
    one_body = len(WebhookDelivery.objects.get(pk=newest[0]).body.encode())
    settings.ALERTMANAGER_DELIVERY_MAX_BYTES = int(one_body * 2.5)  # room for two bodies, not three

    assert alertmanager_prune_deliveries() == 3

    assert sorted(WebhookDelivery.objects.values_list("pk", flat=True)) == sorted(newest[:2])


def test_the_byte_budget_keeps_everything_that_fits(hook: Hook, settings) -> None:
    for i in range(3):
        hook.post(payload([alert(f"web-{i}")]))
    settings.ALERTMANAGER_DELIVERY_MAX_BYTES = 10 * 1024 * 1024

    assert alertmanager_prune_deliveries() == 0
    assert WebhookDelivery.objects.count() == 3
