"""One-step edits of a runbook (the editor's services): each is a new version checked like any save,
made on the version the person saw, and never changes a run already started."""

from __future__ import annotations

import pytest

from incidents.models import Incident, Source
from opsportal.lib.exceptions import ApplicationError, ConflictError
from runbooks import editing, runs
from runbooks.models import Runbook, StepRun

pytestmark = pytest.mark.django_db


def _book() -> Runbook:
    return editing.runbook_save(data={"name": "Recovery", "steps": [
        {"title": "One", "action": "manual"}, {"title": "Two", "action": "approval"},
        {"title": "Three", "action": "wait", "params": {"seconds": 5}}]}, actor=None)


def _titles(book: Runbook) -> list[str]:
    return list(book.steps.order_by("order").values_list("title", flat=True))


def test_it_saves_appends_moves_and_removes_steps_each_as_a_new_version() -> None:
    book = _book()
    book = editing.runbook_step_save(runbook=book, index=1, step={"title": "Go?", "action": "approval"}, actor=None,
                                     expected_version=1)
    book = editing.runbook_step_save(runbook=book, index=None, step={"title": "Four", "action": "manual"},
                                     actor=None, expected_version=2)
    book = editing.runbook_step_move(runbook=book, index=3, offset=-1, actor=None, expected_version=3)
    book = editing.runbook_step_remove(runbook=book, index=0, actor=None, expected_version=4)
    book = editing.runbook_rename(runbook=book, name="Recovery v2", description="Now shorter.", actor=None,
                                  expected_version=5)
    assert (book.version, book.name, book.description) == (6, "Recovery v2", "Now shorter.")
    assert _titles(book) == ["Go?", "Four", "Three"]


def test_a_step_is_checked_like_any_save_and_the_error_names_the_step_and_field() -> None:
    book = _book()
    with pytest.raises(ApplicationError) as refused:
        editing.runbook_step_save(runbook=book, index=2, step={"title": "Wait", "action": "wait",
                                                              "params": {"seconds": -1}}, actor=None,
                                  expected_version=1)
    assert refused.value.extra == {"field": "steps[2].params.seconds", "step": 3}
    book.refresh_from_db()
    assert book.version == 1


def test_an_edit_made_on_an_older_version_is_refused_not_merged() -> None:
    book = _book()
    editing.runbook_step_remove(runbook=book, index=0, actor=None, expected_version=1)
    with pytest.raises(ConflictError) as stale:
        editing.runbook_step_move(runbook=book, index=0, offset=1, actor=None, expected_version=1)
    assert "changed while you edited v1: it is v2 now" in stale.value.message
    assert _titles(book) == ["Two", "Three"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda book: editing.runbook_step_move(runbook=book, index=0, offset=-1, actor=None, expected_version=1),
     "Step 1 is already the first."),
    (lambda book: editing.runbook_step_move(runbook=book, index=2, offset=1, actor=None, expected_version=1),
     "Step 3 is already the last."),
    (lambda book: editing.runbook_step_remove(runbook=book, index=7, actor=None, expected_version=1),
     "There is no step 8: the runbook has 3 steps."),
])
def test_moves_past_either_end_and_unknown_steps_are_refused(change, message) -> None:
    book = _book()
    with pytest.raises(ApplicationError, match=message):
        change(book)
    book.refresh_from_db()
    assert book.version == 1


def test_the_last_step_cannot_be_removed() -> None:
    book = editing.runbook_save(data={"name": "One", "steps": [{"title": "Only", "action": "manual"}]}, actor=None)
    with pytest.raises(ApplicationError, match="steps must be a non-empty list"):
        editing.runbook_step_remove(runbook=book, index=0, actor=None, expected_version=1)


def test_a_run_keeps_the_steps_of_the_version_it_started_with(incident: Incident) -> None:
    book = _book()
    run = runs.run_start(incident=incident, runbook=book, actor=None, source=Source.WEB)
    editing.runbook_step_save(runbook=book, index=0, step={"title": "Changed", "action": "manual"}, actor=None,
                              expected_version=1)
    editing.runbook_step_move(runbook=book, index=2, offset=-1, actor=None, expected_version=2)
    assert list(StepRun.objects.filter(run=run).order_by("index").values_list("title", flat=True)) == [
        "One", "Two", "Three"]
    assert run.runbook_version == 1


def test_a_runbook_holds_up_to_100_steps() -> None:
    steps = [{"title": f"Step {i}", "action": "manual"} for i in range(100)]
    assert editing.runbook_save(data={"name": "Long", "steps": steps}, actor=None).steps.count() == 100
    with pytest.raises(ApplicationError, match="at most 100 steps"):
        editing.runbook_save(data={"name": "Longer", "steps": [*steps, steps[0]]}, actor=None)


def test_a_step_edit_keeps_the_triggers(p3) -> None:
    book = editing.runbook_save(data={"name": "Triggered", "steps": [{"title": "One", "action": "manual"}],
                                      "triggers": [{"matchers": 'alertname="DatabaseDown", service=~"db-.*"',
                                                    "severities": ["P3"], "auto_start": True}]}, actor=None)
    before = editing.runbook_as_data(book)["triggers"]
    book = editing.runbook_step_save(runbook=book, index=None, step={"title": "Two", "action": "manual"}, actor=None,
                                     expected_version=1)
    assert editing.runbook_as_data(book)["triggers"] == before
