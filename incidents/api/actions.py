"""Incident actions: each POST calls one ``incidents.lifecycle`` function and answers with the
incident as it now is (a note answers with the new timeline event).

The lifecycle decides what is allowed; an illegal transition comes back as 409 with
``code: illegal_transition`` (or ``already_acknowledged`` / ``already_resolved``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import lifecycle
from incidents.models import DESCRIPTION_MAX, Incident, Source
from incidents.selectors import incident_get_for_user

from .base import INCIDENT_ID, JsonApiView, actor, get_incident, validated
from .fields import SeverityNameField, StrictCharField, UsernameField
from .schema import errors
from .serializers import IncidentSerializer, TimelineEventSerializer


class _NoInput(serializers.Serializer[Any]):
    """Actions without parameters still read the body, so a malformed one is a 400, not ignored."""


def _note(help_text: str) -> StrictCharField:
    return StrictCharField(
        max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default="", help_text=help_text
    )


F = TypeVar("F", bound=Callable[..., Response])


def _action_schema(name: str, summary: str, request: Any = None) -> Callable[[F], F]:
    return extend_schema(
        operation_id=f"incident_{name}",
        summary=summary,
        request=request,
        parameters=[INCIDENT_ID],
        responses={200: IncidentSerializer, **errors(400, 404, 409, 415)},
        tags=["incident actions"],
    )


class _IncidentActionApi(JsonApiView):
    OutputSerializer = IncidentSerializer

    def answer(self, request: Request, incident: Incident) -> Response:
        fresh = incident_get_for_user(user=request.user, pk=incident.pk)
        return Response(self.OutputSerializer(fresh).data)


class IncidentAcknowledgeApi(_IncidentActionApi):
    InputSerializer = _NoInput

    @_action_schema("acknowledge", "Acknowledge: stop the response clock")
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        validated(self.InputSerializer, request)
        incident = lifecycle.incident_acknowledge(incident=incident, actor=actor(request), source=Source.API)
        return self.answer(request, incident)


class IncidentMitigateApi(_IncidentActionApi):
    class InputSerializer(serializers.Serializer[Any]):
        note = _note("What contained the impact.")

        class Meta:
            ref_name = "IncidentMitigate"

    @_action_schema("mitigate", "Mitigate: impact contained, resolution clock still running", InputSerializer)
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        data = validated(self.InputSerializer, request)
        incident = lifecycle.incident_mitigate(
            incident=incident, actor=actor(request), source=Source.API, note=data["note"]
        )
        return self.answer(request, incident)


class IncidentResolveApi(_IncidentActionApi):
    class InputSerializer(serializers.Serializer[Any]):
        note = _note("How it was resolved; shown in the timeline.")

        class Meta:
            ref_name = "IncidentResolve"

    @_action_schema("resolve", "Resolve: stop the resolution clock", InputSerializer)
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        data = validated(self.InputSerializer, request)
        incident = lifecycle.incident_resolve(
            incident=incident, actor=actor(request), source=Source.API, note=data["note"]
        )
        return self.answer(request, incident)


class IncidentReopenApi(_IncidentActionApi):
    class InputSerializer(serializers.Serializer[Any]):
        reason = _note("Why it is back; shown in the timeline.")

        class Meta:
            ref_name = "IncidentReopen"

    @_action_schema("reopen", "Reopen a resolved incident: it must be acknowledged again", InputSerializer)
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        data = validated(self.InputSerializer, request)
        incident = lifecycle.incident_reopen(
            incident=incident,
            actor=actor(request),
            source=Source.API,
            reason=data["reason"],
        )
        return self.answer(request, incident)


class IncidentCloseApi(_IncidentActionApi):
    InputSerializer = _NoInput

    @_action_schema("close", "Close a resolved incident: it becomes history")
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        validated(self.InputSerializer, request)
        incident = lifecycle.incident_close(incident=incident, actor=actor(request), source=Source.API)
        return self.answer(request, incident)


class IncidentAssignApi(_IncidentActionApi):
    class InputSerializer(serializers.Serializer[Any]):
        commander = UsernameField(allow_null=True, help_text="Username, or null to unassign.")

        class Meta:
            ref_name = "IncidentAssign"

    @_action_schema("assign", "Assign (or with null, unassign) the incident commander", InputSerializer)
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        data = validated(self.InputSerializer, request)
        incident = lifecycle.incident_assign_commander(
            incident=incident,
            commander=data["commander"],
            actor=actor(request),
            source=Source.API,
        )
        return self.answer(request, incident)


class IncidentSeverityApi(_IncidentActionApi):
    class InputSerializer(serializers.Serializer[Any]):
        severity = SeverityNameField()

        class Meta:
            ref_name = "IncidentSeverity"

    @_action_schema(
        "change_severity",
        "Change severity: the SLA deadlines are recomputed from the opening time",
        InputSerializer,
    )
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        data = validated(self.InputSerializer, request)
        incident = lifecycle.incident_change_severity(
            incident=incident,
            severity=data["severity"],
            actor=actor(request),
            source=Source.API,
        )
        return self.answer(request, incident)


class IncidentNoteApi(JsonApiView):
    class InputSerializer(serializers.Serializer[Any]):
        text = StrictCharField(max_length=DESCRIPTION_MAX)

        class Meta:
            ref_name = "IncidentNote"

    OutputSerializer = TimelineEventSerializer

    @extend_schema(
        operation_id="incident_add_note",
        summary="Add a note to the timeline",
        request=InputSerializer,
        parameters=[INCIDENT_ID],
        responses={201: TimelineEventSerializer, **errors(400, 404, 409, 415)},
        tags=["incident actions"],
    )
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        data = validated(self.InputSerializer, request)
        event = lifecycle.incident_add_note(
            incident=incident, text=data["text"], actor=actor(request), source=Source.API
        )
        return Response(self.OutputSerializer(event).data, status=status.HTTP_201_CREATED)
