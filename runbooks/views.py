"""Runbook pages: the list, "Edit as YAML" (the editor's alternative, with inline validation),
import and export, and the run panel's actions on the incident page. The step editor is
``editor_views``. Views parse input, call ``editing``/``runs`` and render; an ApplicationError
becomes an inline message with its 4xx status."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.models import Incident, Source
from incidents.selectors import incident_get_for_user
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.htmx import HtmxHttpRequest

from . import actions, runs, selectors
from .editing import runbook_save, runbook_validate
from .models import Runbook, RunbookRun
from .panels import RUN_PANEL, run_panel_context
from .yaml_io import runbooks_dump, runbooks_import, runbooks_parse

EXAMPLE = """name: My runbook
steps:
  - title: Health
    action: http_check
    params: {url: "http://service:8080/health", expect_status: 200}
  - title: Approve restart
    action: approval
"""
RUN_ACTIONS: dict[str, Callable[..., RunbookRun]] = {"approve": runs.run_approve, "retry": runs.run_retry, "skip": runs.run_skip, "cancel": runs.run_cancel}


def _incident(request: HtmxHttpRequest, pk: int) -> Incident:
    try:
        return incident_get_for_user(user=request.user, pk=pk)
    except Incident.DoesNotExist:
        raise Http404(f"Incident #{pk} does not exist.") from None


@require_GET
@login_required
def runbook_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "runbooks/runbook_list.html", {
        "nav": "runbooks", "runbooks": selectors.runbook_list_for_user(user=request.user), "actions": actions.ACTIONS,
    })


@require_http_methods(["GET", "POST"])
@login_required
def runbook_yaml(request: HtmxHttpRequest, pk: int | None = None) -> HttpResponse:
    """The runbook as YAML. ``validate`` (htmx, on change) checks without saving; a save replaces
    the runbook (a new version, refused when someone saved another meanwhile). Errors name the
    step and field, inline."""
    runbook = None
    if pk is not None:
        try:
            runbook = selectors.runbook_get_for_user(user=request.user, pk=pk)
        except Runbook.DoesNotExist:
            raise Http404(f"Runbook {pk} does not exist.") from None
    text = runbooks_dump([runbook]) if runbook else EXAMPLE
    error, field, status = "", "", 200
    if request.method == "POST":
        text = request.POST.get("yaml", "")
        try:
            if "validate" in request.POST:
                for item in runbooks_parse(text):
                    runbook_validate(item)
                return render(request, "runbooks/runbook_yaml.html#check", {"ok": True})
            items = runbooks_parse(text)
            if len(items) != 1:
                raise ApplicationError("The editor saves one runbook at a time.", extra={"field": "yaml"})
            version = request.POST.get("version", "")
            saved = runbook_save(data=items[0], actor=request.user, runbook=runbook,
                                 expected_version=int(version) if version.isascii() and version.isdigit() else None)
            messages.success(request, f"Saved “{saved.name}” v{saved.version}.")
            return redirect("runbooks:yaml", pk=saved.pk)
        except ApplicationError as exc:
            error, field, status = exc.message, str(exc.extra.get("field", "")), exc.status_code
            if "validate" in request.POST:
                return render(request, "runbooks/runbook_yaml.html#check", {"error": error, "field": field},
                              status=status)
    return render(request, "runbooks/runbook_yaml.html", {
        "nav": "runbooks", "runbook": runbook, "yaml": text, "error": error, "field": field,
        "actions": actions.ACTIONS,
    }, status=status)


@require_GET
@login_required
def runbook_export(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The runbook as a YAML file, for the team's git repository (``runbook_import`` reads it back)."""
    try:
        runbook = selectors.runbook_get_for_user(user=request.user, pk=pk)
    except Runbook.DoesNotExist:
        raise Http404(f"Runbook {pk} does not exist.") from None
    response = HttpResponse(runbooks_dump([runbook]), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(runbook.name) or "runbook"}.yaml"'
    return response


@require_POST
@login_required
def runbook_import_view(request: HtmxHttpRequest) -> HttpResponse:
    try:
        done = runbooks_import(request.POST.get("yaml", ""), actor=request.user, source="the pasted YAML")
        messages.success(request, f"Imported {len(done)} runbook{'s' if len(done) != 1 else ''}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("runbooks:list")


@require_GET
@login_required
def run_panel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The run panel alone, polled by the incident page with the version it shows: 204 while no
    run or step of the incident changed."""
    since = request.GET.get("since")
    if since and since == selectors.run_version_for_incident(incident=pk):  # before loading the incident
        return HttpResponse(status=204)
    return render(request, RUN_PANEL, run_panel_context(request, _incident(request, pk)))


def _panel_answer(request: HtmxHttpRequest, incident: Incident, *, error: str = "", status: int = 200) -> HttpResponse:
    if request.htmx:
        context = {**run_panel_context(request, incident), "error": error}
        response = render(request, RUN_PANEL, context, status=status)
        if status >= 400:
            response["X-Inline-Error"] = "true"
        return response
    if error:
        messages.error(request, error)
    return redirect("incidents:detail", pk=incident.pk)


@require_POST
@login_required
def run_start(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    raw = request.POST.get("runbook", "")
    if not raw.isdigit():
        return _panel_answer(request, incident, error="Choose a runbook to start.", status=400)
    try:
        runs.run_start(incident=incident, runbook=int(raw), actor=request.user, source=Source.WEB)
    except ApplicationError as exc:
        return _panel_answer(request, incident, error=exc.message, status=exc.status_code)
    return _panel_answer(request, incident)


@require_POST
@login_required
def run_action(request: HtmxHttpRequest, run_pk: int, action: str) -> HttpResponse:
    if action not in RUN_ACTIONS:
        raise Http404(f"No run action “{action}”.")
    try:
        run = selectors.run_get_for_user(user=request.user, pk=run_pk)
    except RunbookRun.DoesNotExist:
        raise Http404(f"Runbook run {run_pk} does not exist.") from None
    step = request.POST.get("step", "")
    try:
        if action == "approve" and step.isdigit():
            runs.run_approve(run=run, actor=request.user, source=Source.WEB, step_number=int(step))
        else:
            RUN_ACTIONS[action](run=run, actor=request.user, source=Source.WEB)
    except ApplicationError as exc:
        return _panel_answer(request, run.incident, error=exc.message, status=exc.status_code)
    return _panel_answer(request, run.incident)
