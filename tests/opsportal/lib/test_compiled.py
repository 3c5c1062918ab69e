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


WITH_RELATED = CompiledQuery(
    Incident, lambda pk: Incident.objects.select_related("severity", "service", "commander").filter(pk=pk),
    marker=-1)


def test_it_builds_the_related_instances_select_related_asks_for(
    p1: Severity, django_user_model, django_assert_num_queries
) -> None:
    from incidents.models import Service

    commander = django_user_model.objects.create_user("casey")
    with_all = lifecycle.incident_open(title="A", severity=p1, source=Source.WEB,
                                       service=Service.objects.create(name="checkout"))
    lifecycle.incident_assign_commander(incident=with_all, commander=commander, actor=None, source=Source.WEB)
    bare = lifecycle.incident_open(title="B", severity=p1, source=Source.WEB)

    [got] = WITH_RELATED.objects(with_all.pk)
    with django_assert_num_queries(0):
        assert got.service is not None and got.commander is not None
        assert (got.severity.name, got.service.name, got.commander.username) == (p1.name, "checkout", "casey")
    [got] = WITH_RELATED.objects(bare.pk)
    with django_assert_num_queries(0):
        assert got.service is None and got.commander is None and got.severity == p1
    assert WITH_RELATED.objects(bare.pk + 1000) == []
