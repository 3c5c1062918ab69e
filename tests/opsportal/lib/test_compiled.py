"""A query compiled once answers, for any value, what the ORM's own query answers."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from incidents import lifecycle
from incidents.models import Incident, Severity, Source
from opsportal.lib.compiled import CompiledQuery

pytestmark = pytest.mark.django_db

BY_SOURCE = CompiledQuery(Incident, lambda source: Incident.objects.filter(source=source).order_by("pk"),
                          marker="\x00source\x00")


def test_it_answers_as_the_orm_does_for_each_value(p1: Severity) -> None:
    for n, source in enumerate([Source.WEB, Source.WEB, Source.API]):
        lifecycle.incident_open(title=f"Incident {n}", severity=p1, source=source, labels={"n": str(n)})

    for source in (Source.WEB, Source.API, Source.SLACK):
        got = BY_SOURCE.objects(source)
        want = list(Incident.objects.filter(source=source).order_by("pk"))
        assert [model_to_dict(i) for i in got] == [model_to_dict(i) for i in want]
        assert all(i.opened_at.tzinfo is not None and isinstance(i.labels, dict) for i in got)
        assert all(not i._state.adding for i in got)
