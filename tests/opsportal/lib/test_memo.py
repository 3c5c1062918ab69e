"""Configuration read on every webhook post is kept briefly, and never hides a change made in the
same process (opsportal/lib/memo.py)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from incidents.integrations.alertmanager.maintenance import maintenance_windows_active
from incidents.integrations.alertmanager.models import Integration, MaintenanceWindow
from incidents.notifications import routing
from incidents.notifications.models import Route
from opsportal.lib import memo

pytestmark = pytest.mark.django_db


def _integration() -> Integration:
    return Integration.objects.create(name="memo-test", token_hash="x" * 64, token_prefix="amk_x")


def test_a_route_saved_in_this_process_is_routed_at_once() -> None:
    assert routing.enabled_routes() == {}
    Route.objects.create(channel="slack", target="C0NEW")

    assert [r.target for r in routing.enabled_routes()["slack"]] == ["C0NEW"]


@override_settings(CONFIG_CACHE_SECONDS=0.3)
def test_a_change_made_by_another_process_is_seen_within_the_cache_time() -> None:
    route = Route.objects.create(channel="slack", target="C0OLD")
    assert [r.target for r in routing.enabled_routes()["slack"]] == ["C0OLD"]
    # An update that fires no signal here: what another process's save looks like to this one.
    Route.objects.filter(pk=route.pk).update(target="C0MOVED")

    assert [r.target for r in routing.enabled_routes()["slack"]] == ["C0OLD"]  # kept, briefly
    time.sleep(0.35)
    assert [r.target for r in routing.enabled_routes()["slack"]] == ["C0MOVED"]


def test_a_kept_maintenance_window_still_starts_and_ends_on_time() -> None:
    integration = _integration()
    now = timezone.now()
    window = MaintenanceWindow.objects.create(name="db upgrade", integration=integration, matchers=[],
                                              starts_at=now + timedelta(milliseconds=300),
                                              ends_at=now + timedelta(milliseconds=600))
    assert maintenance_windows_active(integration=integration, at=now) == []  # loaded and kept

    assert maintenance_windows_active(integration=integration, at=now + timedelta(milliseconds=400)) == [window]
    assert maintenance_windows_active(integration=integration, at=now + timedelta(milliseconds=700)) == []


def test_outside_a_scope_nothing_is_kept_and_inside_it_once() -> None:
    loads = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert memo.get("k", load) == 1 and memo.get("k", load) == 2
    with memo.scope():
        assert memo.get("k", load) == 3 and memo.get("k", load) == 3
    assert memo.get("k", load) == 4
