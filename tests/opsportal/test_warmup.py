"""A process builds what its first message needs when it starts (opsportal/warmup.py), so the
first alert after a deploy does not pay for the URL map and the templates."""

from __future__ import annotations

import logging

import pytest
from django.urls import clear_url_caches

from incidents import lifecycle
from incidents.models import Severity, Source
from incidents.notifications import rendering
from incidents.notifications.outbox import deliveries_for_event
from opsportal import warmup


@pytest.mark.django_db
def test_after_warm_up_the_first_messages_compile_nothing(p3: Severity) -> None:
    clear_url_caches()
    rendering._compiled.cache_clear()
    warmup.warm_up()
    compiled = rendering._compiled.cache_info().currsize
    assert compiled >= 10, "every channel's built-in templates are compiled"

    incident = lifecycle.incident_open(title="Checkout returns 502", severity=p3, source=Source.WEB)
    event = lifecycle.record_event(incident, "note", actor=None, source=Source.WEB, message="Rolled back")
    assert deliveries_for_event(event)
    assert rendering._compiled.cache_info().currsize == compiled, "no template was compiled for them"


def test_a_failing_warm_up_does_not_stop_the_process(monkeypatch, caplog) -> None:
    def broken() -> int:
        raise RuntimeError("no templates today")

    monkeypatch.setattr(warmup, "compile_defaults", broken)
    with caplog.at_level(logging.WARNING, logger="opsportal.warmup"):
        warmup.warm_up()
    assert "warm-up at process start failed" in caplog.text


@pytest.mark.django_db
def test_a_worker_whose_pagerduty_settings_are_broken_still_starts(settings, caplog) -> None:
    """The worker's warm-up makes a PagerDuty client as its first send would; a CA bundle that
    cannot be read is logged (and the sends will say so on each delivery), the worker starts."""
    settings.PAGERDUTY_ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
    settings.PAGERDUTY_EVENTS_URL = "https://events.pagerduty.example/v2/enqueue"
    settings.PAGERDUTY_CA_BUNDLE = "/nonexistent/ca.pem"
    with caplog.at_level(logging.WARNING, logger="opsportal.warmup"):
        warmup.warm_up(sending=True)
    assert "warm-up at process start failed" in caplog.text
    assert "PAGERDUTY_CA_BUNDLE could not be loaded" in caplog.text
