"""Incidents as a collection: list with filters, declare, fetch one, read its timeline."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.escalation.models import EscalationPolicy
from incidents.lifecycle import incident_open
from incidents.models import DESCRIPTION_MAX, TITLE_MAX, Source, Status
from incidents.selectors import incident_get_for_user, incident_list_for_user, incident_timeline

from .base import INCIDENT_ID, JsonApiView, actor, get_incident, validated
from .fields import LabelsField, ServiceNameField, SeverityNameField, StrictCharField
from .pagination import StrictLimitOffsetPagination
from .schema import errors
from .serializers import IncidentSerializer, PaginatedIncidentListSerializer, TimelineEventSerializer


def _filter_values(request: Request, name: str) -> list[str]:
    """``?status=open,resolved`` and ``?status=open&status=resolved`` mean the same."""
    return [v.strip() for raw in request.query_params.getlist(name) for v in raw.split(",") if v.strip()]


class IncidentPagination(StrictLimitOffsetPagination):
    """``?limit=&offset=``, 50 by default; a page is capped so one request cannot dump the table."""

    max_limit = 200


class IncidentListApi(JsonApiView):
    OutputSerializer = IncidentSerializer

    @extend_schema(
        operation_id="incident_list",
        summary="List incidents, most urgent first",
        description=(
            "Open before closed, then most severe, then nearest SLA deadline. Filter values may be "
            "comma-separated or repeated; an unknown value is a 400 listing the valid ones."
        ),
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                description=(
                    f"open (= triggered, acknowledged, mitigated) or one of: {', '.join(Status.values)}."
                ),
            ),
            OpenApiParameter(
                "severity", OpenApiTypes.STR, many=True, description="Severity names, e.g. P1,P2."
            ),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description="Page size (default 50, at most 200); a whole number of 1 or more."
            ),
            OpenApiParameter("offset", OpenApiTypes.INT, description="Items to skip; a whole number of 0 or more."),
        ],
        responses={200: PaginatedIncidentListSerializer, **errors(400)},
        tags=["incidents"],
    )
    def get(self, request: Request) -> Response:
        incidents = incident_list_for_user(
            user=request.user,
            statuses=_filter_values(request, "status"),
            severities=_filter_values(request, "severity"),
        )
        paginator = IncidentPagination()
        page = paginator.paginate_queryset(incidents, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class IncidentCreateApi(JsonApiView):
    class InputSerializer(serializers.Serializer[Any]):
        title = StrictCharField(max_length=TITLE_MAX)
        severity = SeverityNameField()
        description = StrictCharField(
            max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default="", trim_whitespace=False
        )
        service = ServiceNameField(required=False, allow_null=True, default=None)
        labels = LabelsField(required=False, default=dict)
        escalation_policy = serializers.PrimaryKeyRelatedField(
            queryset=EscalationPolicy.objects.all(), required=False, allow_null=True, default=None,
            help_text="Escalation policy id; without it the service's policy, else the default one.")

        class Meta:
            ref_name = "IncidentCreate"

    OutputSerializer = IncidentSerializer

    @extend_schema(
        operation_id="incident_create",
        summary="Declare an incident",
        description="Starts the SLA clocks from now; the answer carries the response and resolve deadlines.",
        request=InputSerializer,
        responses={201: IncidentSerializer, **errors(400, 415)},
        tags=["incidents"],
    )
    def post(self, request: Request) -> Response:
        data = validated(self.InputSerializer, request)
        incident = incident_open(**data, source=Source.API, actor=actor(request))
        incident = incident_get_for_user(user=request.user, pk=incident.pk)
        return Response(self.OutputSerializer(incident).data, status=status.HTTP_201_CREATED)


class IncidentDetailApi(JsonApiView):
    OutputSerializer = IncidentSerializer

    @extend_schema(
        operation_id="incident_detail",
        summary="One incident with its SLA deadlines, breaches and lifecycle timestamps",
        parameters=[INCIDENT_ID],
        responses={200: IncidentSerializer, **errors(404)},
        tags=["incidents"],
    )
    def get(self, request: Request, incident_id: int) -> Response:
        return Response(self.OutputSerializer(get_incident(request, incident_id)).data)


class IncidentTimelineApi(JsonApiView):
    OutputSerializer = TimelineEventSerializer

    @extend_schema(
        operation_id="incident_timeline",
        summary="Every change to an incident, oldest first",
        parameters=[INCIDENT_ID],
        responses={200: TimelineEventSerializer(many=True), **errors(404)},
        tags=["incidents"],
    )
    def get(self, request: Request, incident_id: int) -> Response:
        events = incident_timeline(incident=get_incident(request, incident_id))
        return Response(self.OutputSerializer(events, many=True).data)
