"""/api/v1/ routes of runbooks (docs/runbooks.md, "API"): runbooks, the runs of an incident, a run
with its steps, and the actions on a run's current step. Mounted by ``opsportal/urls.py``.

Runbook bodies are validated by ``editing.runbook_validate`` (errors name the step and the field:
``{"error": {"code": "invalid", "field": "steps[0].params.url", "step": 1, ...}}``); the
serializers here describe the shapes for the schema and render answers.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.base import INCIDENT_ID, JsonApiView, actor, get_incident
from incidents.api.pagination import StrictLimitOffsetPagination
from incidents.api.schema import errors
from incidents.models import Source

from . import editing, runs, selectors
from .models import Action, OnFailure, Runbook, RunbookRun, RunStatus, StepRun, StepStatus

RUNBOOK_ID = OpenApiParameter("runbook_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The runbook's id.")
RUN_ID = OpenApiParameter("run_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The run's id.")


class StepSerializer(serializers.Serializer[Any]):
    title = serializers.CharField()
    action = serializers.ChoiceField(choices=Action.choices)
    params = serializers.DictField(required=False, help_text="The action's parameters (docs/runbooks.md).")
    timeout_seconds = serializers.IntegerField(required=False, min_value=1, default=30)
    retries = serializers.IntegerField(required=False, min_value=0, default=0)
    on_failure = serializers.ChoiceField(choices=OnFailure.choices, required=False, default=OnFailure.STOP)
    needs_approval = serializers.BooleanField(required=False, default=False)

    class Meta:
        ref_name = "RunbookStep"


class TriggerSerializer(serializers.Serializer[Any]):
    matchers = serializers.JSONField(help_text='Text ("alertname=DatabaseDown, service=~db-.*") or matcher objects.')
    severities = serializers.ListField(child=serializers.CharField(), required=False)
    auto_start = serializers.BooleanField(required=False, default=False)

    class Meta:
        ref_name = "RunbookTrigger"


class RunbookInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    steps = StepSerializer(many=True)
    triggers = TriggerSerializer(many=True, required=False)

    class Meta:
        ref_name = "RunbookInput"


class RunbookSerializer(RunbookInputSerializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()

    class Meta:
        ref_name = "Runbook"


def runbook_data(runbook: Runbook) -> dict[str, Any]:
    return {"id": runbook.pk, "version": runbook.version, **editing.runbook_as_data(runbook)}


class StepRunSerializer(serializers.ModelSerializer[StepRun]):
    status = serializers.ChoiceField(choices=StepStatus.choices)
    approved_by = serializers.SerializerMethodField()

    class Meta:
        model = StepRun
        fields = ["title", "action", "status", "attempts", "output", "started_at", "finished_at", "approved_by",
                  "approved_at", "needs_approval", "result"]

    def get_approved_by(self, step: StepRun) -> str | None:
        return step.approved_by.get_username() if step.approved_by else None


class RunSerializer(serializers.ModelSerializer[RunbookRun]):
    incident = serializers.IntegerField(source="incident_id")
    runbook = serializers.IntegerField(source="runbook_id", allow_null=True)
    status = serializers.ChoiceField(choices=RunStatus.choices)
    started_by = serializers.SerializerMethodField()
    current_step = serializers.SerializerMethodField()
    steps = StepRunSerializer(many=True)

    class Meta:
        model = RunbookRun
        fields = ["id", "incident", "runbook", "runbook_name", "runbook_version", "status", "current_step",
                  "auto_started", "started_by", "started_at", "finished_at", "steps"]

    def get_started_by(self, run: RunbookRun) -> str | None:
        return run.started_by.get_username() if run.started_by else None

    def get_current_step(self, run: RunbookRun) -> int | None:
        """1-based number of the step the actions act on; null once the run succeeded or was cancelled."""
        return None if run.is_finished else run.current_index + 1


def _runbook(request: Request, runbook_id: int) -> Runbook:
    try:
        return selectors.runbook_get_for_user(user=request.user, pk=runbook_id)
    except Runbook.DoesNotExist:
        raise NotFound(f"Runbook {runbook_id} does not exist.") from None


def _run(request: Request, run_id: int) -> RunbookRun:
    try:
        return selectors.run_get_for_user(user=request.user, pk=run_id)
    except RunbookRun.DoesNotExist:
        raise NotFound(f"Runbook run {run_id} does not exist.") from None


class RunbookCollectionApi(JsonApiView):
    @extend_schema(operation_id="runbook_list", summary="List runbooks", tags=["runbooks"],
                   parameters=[OpenApiParameter("limit", OpenApiTypes.INT), OpenApiParameter("offset", OpenApiTypes.INT)],
                   responses={200: RunbookSerializer(many=True), **errors(400)})
    def get(self, request: Request) -> Response:
        paginator = StrictLimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.runbook_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response([runbook_data(r) for r in page or []])

    @extend_schema(operation_id="runbook_create", summary="Create a runbook", tags=["runbooks"],
                   description="Invalid parameters are a 400 naming the step and the field (`steps[0].params.url`).",
                   request=RunbookInputSerializer, responses={201: RunbookSerializer, **errors(400, 409, 415)})
    def post(self, request: Request) -> Response:
        runbook = editing.runbook_save(data=request.data, actor=actor(request))
        return Response(runbook_data(_runbook(request, runbook.pk)), status=status.HTTP_201_CREATED)


class RunbookDetailApi(JsonApiView):
    @extend_schema(operation_id="runbook_detail", summary="A runbook", tags=["runbooks"], parameters=[RUNBOOK_ID],
                   responses={200: RunbookSerializer, **errors(404)})
    def get(self, request: Request, runbook_id: int) -> Response:
        return Response(runbook_data(_runbook(request, runbook_id)))

    @extend_schema(operation_id="runbook_replace", summary="Replace a runbook (a new version)", tags=["runbooks"],
                   description="Runs already started keep the version they started with.",
                   parameters=[RUNBOOK_ID], request=RunbookInputSerializer,
                   responses={200: RunbookSerializer, **errors(400, 404, 409, 415)})
    def put(self, request: Request, runbook_id: int) -> Response:
        runbook = editing.runbook_save(data=request.data, actor=actor(request), runbook=_runbook(request, runbook_id))
        return Response(runbook_data(_runbook(request, runbook.pk)))

    @extend_schema(operation_id="runbook_delete", summary="Delete a runbook", tags=["runbooks"],
                   description="Runs already made stay on their incidents.",
                   parameters=[RUNBOOK_ID], responses={204: None, **errors(404)})
    def delete(self, request: Request, runbook_id: int) -> Response:
        _runbook(request, runbook_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class RunStartSerializer(serializers.Serializer[Any]):
    runbook = serializers.IntegerField(min_value=1, help_text="The runbook's id.")

    class Meta:
        ref_name = "RunbookRunStart"


class IncidentRunsApi(JsonApiView):
    @extend_schema(operation_id="incident_runbook_runs", summary="The incident's runbook runs, newest first",
                   tags=["runbooks"], parameters=[INCIDENT_ID], responses={200: RunSerializer(many=True), **errors(404)})
    def get(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        return Response(RunSerializer(selectors.run_list_for_incident(user=request.user, incident=incident)[:100],
                                      many=True).data)

    @extend_schema(operation_id="incident_runbook_run_start", summary="Attach a runbook and start it",
                   tags=["runbooks"], parameters=[INCIDENT_ID], request=RunStartSerializer,
                   responses={201: RunSerializer, **errors(400, 404, 409, 415)})
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        serializer = RunStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = runs.run_start(incident=incident, runbook=serializer.validated_data["runbook"], actor=actor(request),
                             source=Source.API)
        return Response(RunSerializer(_run(request, run.pk)).data, status=status.HTTP_201_CREATED)


class RunDetailApi(JsonApiView):
    @extend_schema(operation_id="runbook_run_detail", summary="A run with its steps", tags=["runbooks"],
                   parameters=[RUN_ID], responses={200: RunSerializer, **errors(404)})
    def get(self, request: Request, run_id: int) -> Response:
        return Response(RunSerializer(_run(request, run_id)).data)


class RunActionSerializer(serializers.Serializer[Any]):
    step = serializers.IntegerField(required=False, min_value=1, help_text=(
        "The step (1-based) you mean to approve. Optional; with it, a second click cannot approve the next "
        "waiting step: it gets 409 naming who approved."))

    class Meta:
        ref_name = "RunbookRunAction"


def _action_view(name: str, summary: str) -> type[JsonApiView]:
    class RunActionApi(JsonApiView):
        @extend_schema(operation_id=f"runbook_run_{name}", summary=summary, tags=["runbooks"], parameters=[RUN_ID],
                       request=RunActionSerializer if name == "approve" else None,
                       responses={200: RunSerializer, **errors(403, 404, 409)})
        def post(self, request: Request, run_id: int) -> Response:
            run = _run(request, run_id)
            who = actor(request)
            if name == "approve":
                body = RunActionSerializer(data=request.data if (request.content_type or "").startswith("application/json") else {})
                body.is_valid(raise_exception=True)
                runs.run_approve(run=run, actor=who, source=Source.API, step_number=body.validated_data.get("step"))
            else:
                {"retry": runs.run_retry, "skip": runs.run_skip, "cancel": runs.run_cancel}[name](
                    run=run, actor=who, source=Source.API)
            return Response(RunSerializer(_run(request, run_id)).data)

    RunActionApi.__name__ = RunActionApi.__qualname__ = f"Run{name.capitalize()}Api"
    return RunActionApi


app_name = "runbooks-api"
urlpatterns = [
    path("runbooks/", RunbookCollectionApi.as_view(), name="runbook-list"),
    path("runbooks/<int:runbook_id>/", RunbookDetailApi.as_view(), name="runbook-detail"),
    path("incidents/<int:incident_id>/runbook-runs/", IncidentRunsApi.as_view(), name="incident-runs"),
    path("runbook-runs/<int:run_id>/", RunDetailApi.as_view(), name="run-detail"),
    path("runbook-runs/<int:run_id>/approve/",
         _action_view("approve", "Approve the step waiting for a person (or mark a manual step done)").as_view(),
         name="run-approve"),
    path("runbook-runs/<int:run_id>/retry/", _action_view("retry", "Retry the failed current step").as_view(),
         name="run-retry"),
    path("runbook-runs/<int:run_id>/skip/",
         _action_view("skip", "Skip the current step (failed or waiting)").as_view(), name="run-skip"),
    path("runbook-runs/<int:run_id>/cancel/", _action_view("cancel", "Cancel the run").as_view(), name="run-cancel"),
]
