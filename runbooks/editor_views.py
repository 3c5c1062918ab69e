"""The runbook editor (docs/runbooks.md, "Editor"): a runbook's steps in order, each edited in a
form built from its action's parameters; steps are added, saved, removed and moved with htmx, or
with plain form posts and links without JavaScript. Every change goes through ``editing`` (a new
version, checked exactly like an API or YAML save) and names the version it was made on, so an
edit never overwrites someone else's. Errors are shown next to the field they name."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from opsportal.lib.exceptions import ApplicationError, ConflictError
from opsportal.lib.htmx import HtmxHttpRequest

from . import actions, editing, selectors, step_forms
from .models import Runbook, Step
from .step_forms import StepForm

EDITOR = "runbooks/runbook_editor.html"
NEW = "runbooks/runbook_new.html"
STEP_FIELDS = "runbooks/_step_fields.html"
MOVES = {"up": -1, "down": 1}
NUMBER = re.compile(r"[0-9]{1,6}")


def _runbook(request: HtmxHttpRequest, pk: int) -> Runbook:
    try:
        return selectors.runbook_get_for_user(user=request.user, pk=pk)
    except Runbook.DoesNotExist:
        raise Http404(f"Runbook {pk} does not exist.") from None


def _number(raw: Any) -> int | None:
    return int(raw) if isinstance(raw, str) and NUMBER.fullmatch(raw) else None


def _urls(runbook: Runbook) -> dict[str, str]:
    """The editor's URLs, reversed once per page rather than once per step."""
    urls = {op: reverse("runbooks:step", args=[runbook.pk, op]) for op in ("save", "remove", *MOVES)}
    return {**urls, "edit": reverse("runbooks:edit", args=[runbook.pk]),
            "item": reverse("runbooks:step-item", args=[runbook.pk])}


def _row(steps: list[Step], index: int) -> dict[str, Any]:
    step = steps[index]
    return {"index": index, "step": step, "first": index == 0, "last": index == len(steps) - 1,
            "summary": step_forms.summary(step.action, step.params)}


def _editor(request: HtmxHttpRequest, runbook: Runbook, *, step_form: StepForm | None = None,
            rename: dict[str, Any] | None = None, error: str = "", notice: str = "", status: int = 200,
            partial: bool = False) -> HttpResponse:
    """The editor page, or (``partial``) its ``#runbook-editor`` region, which every htmx change
    swaps: the version in every form is then the one saved."""
    steps = list(runbook.steps.all())
    context = {
        "nav": "runbooks", "runbook": runbook, "urls": _urls(runbook), "step_form": step_form,
        "rows": [_row(steps, i) for i in range(len(steps))], "error": error, "notice": notice,
        "triggers": list(runbook.triggers.all()),
        "rename": rename or {"name": runbook.name, "description": runbook.description, "errors": {}},
        "action_choices": StepForm(action="").action_choices,
    }
    return render(request, EDITOR + ("#editor" if partial else ""), context, status=status)


def _changed(request: HtmxHttpRequest, runbook: Runbook, notice: str) -> HttpResponse:
    """After a saved change: the fresh region (htmx), or back to the page (a plain post)."""
    if request.htmx:
        return _editor(request, _runbook(request, runbook.pk), notice=notice, partial=True)
    messages.success(request, notice)
    return redirect("runbooks:edit", pk=runbook.pk)


def _refused(request: HtmxHttpRequest, pk: int, exc: ApplicationError) -> HttpResponse:
    """A change refused as a whole (a stale version, a step that cannot move): the current runbook
    with the reason on top."""
    return _editor(request, _runbook(request, pk), error=exc.message, status=exc.status_code,
                   partial=bool(request.htmx))


@require_GET
@login_required
def runbook_editor(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The page; ``?edit=<index>`` opens a step's form, ``?add=<action>`` a new step's (what the
    htmx buttons fetch alone, for browsers without JavaScript)."""
    runbook = _runbook(request, pk)
    step_form, error, status = None, "", 200
    edit, add = _number(request.GET.get("edit")), request.GET.get("add")
    if edit is not None:
        data = editing.runbook_as_data(runbook)["steps"]
        if edit < len(data):
            step_form = step_forms.from_step(data[edit], index=edit, key=str(edit))
        else:
            error, status = f"There is no step {edit + 1}.", 404
    elif add is not None:
        if add in actions.ACTIONS:
            step_form = step_forms.blank(add)
        else:
            error, status = "Choose one of the actions to add a step.", 400
    partial = bool(request.htmx) and request.htmx.target == "runbook-editor"
    return _editor(request, runbook, step_form=step_form, error=error, status=status, partial=partial)


@require_GET
@login_required
def step_item(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One list item for htmx: step ``index``'s form (``cancel``: its row again), or a new step's
    form for the action ``add`` (``cancel``: the empty slot)."""
    runbook = _runbook(request, pk)
    index, action = _number(request.GET.get("index")), request.GET.get("add", "")
    if not request.htmx:
        query = urlencode({"edit": str(index)} if index is not None else {"add": action})
        return redirect(reverse("runbooks:edit", args=[pk]) + f"?{query}")
    steps = list(runbook.steps.all())
    context: dict[str, Any] = {"runbook": runbook, "urls": _urls(runbook)}
    if index is not None:
        if index >= len(steps):  # removed meanwhile: the current runbook, saying so
            response = _editor(request, runbook, error=f"There is no step {index + 1} any more.", status=409,
                               partial=True)
            return reswap(retarget(response, "#runbook-editor"), "outerHTML")
        if "cancel" in request.GET:
            context["row"] = _row(steps, index)
            return render(request, EDITOR + "#step_row", context)
        data = editing.runbook_as_data(runbook)["steps"][index]
        context["step_form"] = step_forms.from_step(data, index=index, key=str(index))
    elif "cancel" in request.GET or action not in actions.ACTIONS:
        return render(request, EDITOR + "#new_slot", context)
    else:
        context["step_form"] = step_forms.blank(action)
    return render(request, EDITOR + "#step_form", context)


@require_GET
@login_required
def step_fields(request: HtmxHttpRequest) -> HttpResponse:
    """A step form's inputs for the action just chosen (htmx, on change of the action); the
    inputs the two actions share keep what was typed."""
    return render(request, STEP_FIELDS, {"form": step_forms.from_post(request.GET, index=None)})


@require_POST
@login_required
def step_change(request: HtmxHttpRequest, pk: int, op: str) -> HttpResponse:
    """``save`` (index or ``new``), ``remove``, ``up``, ``down``: each a new version through
    ``editing``, made on the version the page showed."""
    runbook = _runbook(request, pk)
    version = _number(request.POST.get("version"))
    raw_index = request.POST.get("index", "")
    index = _number(raw_index)
    if op not in ("save", "remove", *MOVES):
        raise Http404(f"No step change “{op}”.")
    if version is None or (index is None and not (op == "save" and raw_index == "new")):
        return _refused(request, pk, ApplicationError("Reload the editor: the form did not say which step and "
                                                      "version it changes.", extra={"field": "index"}))
    if op != "save":
        assert index is not None
        try:
            if op == "remove":
                saved = editing.runbook_step_remove(runbook=runbook, index=index, actor=request.user,
                                                    expected_version=version)
                return _changed(request, saved, f"Removed step {index + 1} (now v{saved.version}).")
            saved = editing.runbook_step_move(runbook=runbook, index=index, offset=MOVES[op], actor=request.user,
                                              expected_version=version)
            return _changed(request, saved, f"Moved step {index + 1} {op} (now v{saved.version}).")
        except ApplicationError as exc:
            return _refused(request, pk, exc)
    form = step_forms.from_post(request.POST, index=index, key="new" if index is None else str(index))
    try:
        saved = editing.runbook_step_save(runbook=runbook, index=index, step=form.to_step(), actor=request.user,
                                          expected_version=version)
    except ConflictError as exc:
        return _refused(request, pk, exc)
    except ApplicationError as exc:
        # A new step's errors name the index it would have had: after the runbook's last step.
        form.show_error(exc, at=len(runbook.steps.all()) if index is None else index)
        if not request.htmx:
            return _editor(request, runbook, step_form=form, status=exc.status_code)
        response = render(request, EDITOR + "#step_form", {"runbook": runbook, "urls": _urls(runbook),
                                                             "step_form": form}, status=exc.status_code)
        return reswap(retarget(response, f"#step-{index}" if index is not None else "#new-step"), "outerHTML")
    number = index + 1 if index is not None else saved.steps.count()
    return _changed(request, saved, f"Saved step {number} (now v{saved.version}).")


@require_POST
@login_required
def runbook_rename(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    runbook = _runbook(request, pk)
    version = _number(request.POST.get("version"))
    name, description = request.POST.get("name", ""), request.POST.get("description", "")
    try:
        if version is None:
            raise ApplicationError("Reload the editor: the form did not say which version it changes.")
        saved = editing.runbook_rename(runbook=runbook, name=name, description=description, actor=request.user,
                                       expected_version=version)
    except ConflictError as exc:
        if exc.code != "stale":  # a runbook of that name exists: said next to the name
            rename = {"name": name, "description": description, "errors": {"name": exc.message}}
            return _editor(request, runbook, rename=rename, status=exc.status_code, partial=bool(request.htmx))
        return _refused(request, pk, exc)
    except ApplicationError as exc:
        field = str(exc.extra.get("field", ""))
        rename = {"name": name, "description": description,
                  "errors": {field if field in ("name", "description") else "name": exc.message}}
        return _editor(request, runbook, rename=rename, status=exc.status_code, partial=bool(request.htmx))
    return _changed(request, saved, f"Saved “{saved.name}” (now v{saved.version}).")


@require_http_methods(["GET", "POST"])
@login_required
def runbook_new(request: HtmxHttpRequest) -> HttpResponse:
    """A new runbook: its name, description and first step (``?action=`` picks the first step's
    action without JavaScript); the editor takes it from there."""
    values = {"name": "", "description": "", "errors": {}}
    action = request.GET.get("action", step_forms.DEFAULT_ACTION)
    form = step_forms.blank(action if action in actions.ACTIONS else step_forms.DEFAULT_ACTION, key="first")
    status = 200
    if request.method == "POST":
        values = {"name": request.POST.get("name", ""), "description": request.POST.get("description", ""),
                  "errors": {}}
        form = step_forms.from_post(request.POST, index=0, key="first")
        try:
            data = {"name": values["name"], "description": values["description"], "steps": [form.to_step()]}
            saved = editing.runbook_save(data=data, actor=request.user)
        except ApplicationError as exc:
            field = str(exc.extra.get("field", ""))
            if field in ("name", "description"):
                values["errors"] = {field: exc.message}
            else:
                form.show_error(exc, at=0)
            status = exc.status_code
        else:
            messages.success(request, f"Created “{saved.name}” v{saved.version}. Add its next steps below.")
            return redirect("runbooks:edit", pk=saved.pk)
    return render(request, NEW, {"nav": "runbooks", "values": values, "form": form}, status=status)
