"""The scheduler's database timers (opsportal/timers.py): each runs on its own interval, and one that
fails does not stop the others."""

from __future__ import annotations

import pytest

from opsportal.timers import run_due


@pytest.mark.django_db
def test_it_runs_due_sweeps_and_survives_a_failing_one() -> None:
    calls: list[str] = []

    def broken() -> None:
        calls.append("broken")
        raise RuntimeError("database is down")

    sweeps = {"broken": (broken, 1.0), "sla": (lambda: calls.append("sla"), 5.0)}
    next_run: dict[str, float] = {}
    run_due(sweeps, next_run, now=100.0)
    assert calls == ["broken", "sla"]
    assert next_run == {"broken": 101.0, "sla": 105.0}
    run_due(sweeps, next_run, now=101.0)  # only the 1 s sweep is due again
    assert calls == ["broken", "sla", "broken"]

