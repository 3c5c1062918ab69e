"""Which runbooks belong to an incident: triggers' label matchers and severity filter. Evaluated
when an incident opens (a hook registered with ``incidents.registry``: auto-start triggers start
their runbook) and on the incident page (the others are offered with a Start button)."""

from __future__ import annotations

import logging

from django.db import transaction

from incidents.models import Incident, Source
from opsportal.lib import memo
from opsportal.lib.matchers import matchers_match

from .models import Runbook, Trigger
from .runs import run_start

log = logging.getLogger(__name__)


def trigger_matches(trigger: Trigger, incident: Incident) -> bool:
    if trigger.severities and incident.severity.name not in trigger.severities:
        return False
    return matchers_match(trigger.matchers, dict(incident.labels or {}))


def runbooks_matching(incident: Incident, *, auto_start: bool | None = None) -> list[Runbook]:
    """Runbooks with a trigger matching ``incident`` (only auto-start ones, or only the others)."""
    def load() -> list[Trigger]:
        triggers = Trigger.objects.select_related("runbook").order_by("runbook__name", "pk")
        if auto_start is not None:
            triggers = triggers.filter(auto_start=auto_start)
        return list(triggers)

    found: dict[int, Runbook] = {}
    for trigger in memo.config(("runbooks.triggers", auto_start), load):
        if trigger.runbook_id not in found and trigger_matches(trigger, incident):
            found[trigger.runbook_id] = trigger.runbook
    return list(found.values())


def runbooks_start_for_new_incident(incident: Incident) -> None:
    """The incident-opened hook: start every runbook whose auto-start trigger matches, in the
    transaction that opened the incident (the first steps are sent to workers when it commits)."""
    for runbook in runbooks_matching(incident, auto_start=True):
        with transaction.atomic():  # a run that fails to start must not undo the incident
            run_start(incident=incident, runbook=runbook, actor=None, source=Source.RUNBOOK, auto=True)
