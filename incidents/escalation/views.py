"""Escalation pages: the incident panel (escalate now, page), policies (list, page with ordered
levels edited in place with htmx) and the simulator. Every change goes through ``policies`` or the
lifecycle; a refusal is shown inline with the field it names."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import lifecycle
from incidents.models import Incident, Source
from incidents.registry import TIMELINE_CHANGED
from incidents.selectors import incident_get_for_user
from opsportal.lib import memo
from opsportal.lib.exceptions import ApplicationError
from opsportal.lib.htmx import HtmxHttpRequest
from opsportal.lib.views import page_of

from . import policies, simulate, snapshot
from .forms import LevelForm, PolicyForm, parse_target_lines
from .models import EscalationPolicy
from .panels import ESCALATION_PANEL, PANEL, panel_context
from .plan import plan_version

POLICIES_PER_PAGE = 50


def _incident(request: HttpRequest, pk: int) -> Incident:
    try:
        return incident_get_for_user(user=request.user, pk=pk)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def _policy(pk: int) -> EscalationPolicy:
    try:
        return EscalationPolicy.objects.prefetch_related("levels").get(pk=pk)
    except EscalationPolicy.DoesNotExist:
        raise Http404("No such escalation policy.") from None


def _panel(request: HtmxHttpRequest, incident: Incident, status: int = 200) -> HttpResponse:
    """The panel after escalate now or page; the timeline refreshes too (it has a new event)."""
    if request.htmx:
        response = render(request, PANEL, panel_context(request, incident), status=status)
        response["HX-Trigger"] = TIMELINE_CHANGED
        return response
    return redirect(f"/incidents/{incident.pk}/#escalation")


@require_GET
@login_required
def incident_escalation(request: HtmxHttpRequest, incident_pk: int) -> HttpResponse:
    """The panel alone (its refresh): 204 while the version it sends as ``since`` holds, else the
    page's own shared drawing, so when the minute turns every tab is answered from one per process."""
    with memo.scope():  # the version's query, read once for the check and the drawing
        incident = _incident(request, incident_pk)
        if request.GET.get("since") == plan_version(incident):
            return HttpResponse(status=204)
        return HttpResponse(ESCALATION_PANEL.html(request, incident))


@require_POST
@login_required
def incident_escalate(request: HtmxHttpRequest, incident_pk: int) -> HttpResponse:
    incident = _incident(request, incident_pk)
    status = 200
    try:
        lifecycle.incident_escalate(incident=incident, reason="manual", actor=request.user, source=Source.WEB)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        status = exc.status_code
    incident.refresh_from_db()
    return _panel(request, incident, status)


@require_POST
@login_required
def incident_page(request: HtmxHttpRequest, incident_pk: int) -> HttpResponse:
    incident = _incident(request, incident_pk)
    status = 200
    try:
        typed = request.POST.get("username", "").strip()  # "or a username", past the picker's first names
        raw = f"user:{typed}" if typed else request.POST.get("target", "")
        kind, _, value = raw.partition(":")
        target = snapshot.parse_targets([{"type": kind, "value": value}], "target")[0]
        if target.type not in ("user", "schedule"):
            raise snapshot.invalid("target", "Page a user or a schedule.")
        lifecycle.incident_page(incident=incident, target=target, actor=request.user, source=Source.WEB)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        status = exc.status_code
    incident.refresh_from_db()
    return _panel(request, incident, status)


@require_http_methods(["GET", "POST"])
@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    form, level_form, error = PolicyForm(request.POST or None), LevelForm(request.POST or None), ""
    if request.method == "POST" and form.is_valid() and level_form.is_valid():
        try:
            data = {**form.cleaned_data, "levels": [_level_data(level_form)]}
            policy = policies.policy_save(data=data)
        except ApplicationError as exc:
            error = exc.message
        else:
            return redirect("escalation:policy", pk=policy.pk)
    page = page_of(request, EscalationPolicy.objects.prefetch_related("levels").order_by("name", "pk"), POLICIES_PER_PAGE)
    return render(request, "escalation/policy_list.html", {
        "policies": page.object_list, "page": page, "form": form, "level_form": level_form, "error": error, "nav": "escalation"},
        status=400 if error or (request.method == "POST" and not (form.is_valid() and level_form.is_valid()))
        else 200)


def _level_data(form: LevelForm) -> dict[str, Any]:
    return {"delay_seconds": form.cleaned_data["delay_seconds"],
            "targets": parse_target_lines(form.cleaned_data["targets"])}


def _data(policy: EscalationPolicy) -> dict[str, Any]:
    data = policies.policy_data(policy)
    return {k: data[k] for k in ("name", "description", "repeat", "escalate_on_sla_breach", "is_default")} | {
        "levels": [{"delay_seconds": lv["delay_seconds"], "targets": lv["targets"]} for lv in data["levels"]]}


def _policy_page(request: HtmxHttpRequest, policy: EscalationPolicy, *, error: str = "", status: int = 200,
                 level_form: LevelForm | None = None, sim: simulate.Simulation | None = None,
                 sim_error: str = "", labels: str = "") -> HttpResponse:
    context = {
        "policy": policy, "levels": list(policy.levels.all()), "error": error, "nav": "escalation",
        "level_form": level_form or LevelForm(),
        "form": PolicyForm(initial=policies.policy_data(policy)),
        "sim": sim, "sim_error": sim_error, "labels": labels,
    }
    template = "escalation/policy_detail.html"
    if request.htmx and request.htmx.target == "levels":
        template += "#levels"
    return render(request, template, context, status=status)


@require_GET
@login_required
def policy_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    policy = _policy(pk)
    labels = request.GET.get("labels", "")
    sim, sim_error = None, ""
    if "labels" in request.GET:
        try:
            sim = simulate.simulate(simulate.parse_labels(labels))
        except ValueError as exc:
            sim_error = f"Labels: {exc}."
    return _policy_page(request, policy, sim=sim, sim_error=sim_error, labels=labels,
                        status=400 if sim_error else 200)


@require_POST
@login_required
def policy_change(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    """Every edit of the page (settings, add, remove, move a level) rebuilds the policy's data and
    saves it through ``policies.policy_save``."""
    policy = _policy(pk)
    data = _data(policy)
    levels: list[dict[str, Any]] = data["levels"]
    level_form = None
    try:
        index = int(request.POST.get("index", "0"))
        if action == "settings":
            form = PolicyForm(request.POST)
            if not form.is_valid():
                field, errors = next(iter(form.errors.items()))
                raise snapshot.invalid(field, " ".join(str(e) for e in errors))
            data.update(form.cleaned_data)
        elif action == "add":
            level_form = LevelForm(request.POST)
            if not level_form.is_valid():
                raise snapshot.invalid("level", "Give a delay in seconds and at least one target.")
            levels.append(_level_data(level_form))
        elif action == "remove" and 0 <= index < len(levels):
            levels.pop(index)
        elif action in ("up", "down") and 0 <= index < len(levels):
            other = index - 1 if action == "up" else index + 1
            if 0 <= other < len(levels):
                levels[index], levels[other] = levels[other], levels[index]
        elif action == "delete":
            policies.policy_delete(policy=policy)
            return redirect("escalation:policies")
        policies.policy_save(data=data, policy=policy)
    except (ApplicationError, ValueError) as exc:
        message = exc.message if isinstance(exc, ApplicationError) else "Bad level number."
        return _policy_page(request, _policy(pk), error=message, status=400, level_form=level_form)
    return _policy_page(request, _policy(pk))
