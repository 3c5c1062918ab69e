"""Output shapes shared by several endpoints: an incident, a timeline event, reference rows, errors.

Each endpoint's own input lives on its view as ``InputSerializer``; an endpoint
whose answer is an incident points its ``OutputSerializer`` at ``IncidentSerializer`` so scripts
see one incident shape everywhere.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from incidents.models import Incident, Service, Severity, TimelineEvent


class IncidentSerializer(serializers.ModelSerializer[Any]):
    """An incident with its SLA clock: deadlines, breaches and every lifecycle timestamp."""

    severity = serializers.CharField(source="severity.name", help_text="Severity name, e.g. P1.")
    severity_label = serializers.CharField(source="severity.label")
    service = serializers.CharField(source="service.name", allow_null=True, default=None)
    commander = serializers.CharField(source="commander.username", allow_null=True, default=None)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    labels = serializers.DictField(child=serializers.CharField())
    is_open = serializers.BooleanField()
    is_breached = serializers.BooleanField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "key",
            "title",
            "description",
            "status",
            "severity",
            "severity_label",
            "service",
            "commander",
            "labels",
            "source",
            "created_by",
            "is_open",
            "is_breached",
            "opened_at",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "response_due_at",
            "resolve_due_at",
            "response_breached_at",
            "resolve_breached_at",
        ]
        read_only_fields = fields


class PaginatedIncidentListSerializer(serializers.Serializer[Any]):
    """One page of ``LimitOffsetPagination`` (``?limit=&offset=``)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = IncidentSerializer(many=True)


class TimelineEventSerializer(serializers.ModelSerializer[Any]):
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    data = serializers.DictField()  # type: ignore[assignment]  # a declared field, not .data

    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "message", "actor", "source", "data", "created_at"]
        read_only_fields = fields


class SeveritySerializer(serializers.ModelSerializer[Any]):
    response_target_seconds = serializers.SerializerMethodField()
    resolution_target_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Severity
        fields = [
            "name",
            "label",
            "rank",
            "colour",
            "description",
            "response_target_seconds",
            "resolution_target_seconds",
        ]
        read_only_fields = fields

    def get_response_target_seconds(self, obj: Severity) -> int:
        return int(obj.response_target.total_seconds())

    def get_resolution_target_seconds(self, obj: Severity) -> int:
        return int(obj.resolution_target.total_seconds())


class ServiceSerializer(serializers.ModelSerializer[Any]):
    class Meta:
        model = Service
        fields = ["name", "description", "owner_team"]
        read_only_fields = fields


class ErrorBodySerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Machine-readable, e.g. invalid, illegal_transition, not_found.")
    message = serializers.CharField(help_text="What went wrong, for a person.")
    fields = serializers.DictField(  # type: ignore[assignment]  # a declared field, not .fields
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages when the request body failed validation.",
    )


class ErrorSerializer(serializers.Serializer[Any]):
    """Every error answer: ``{"error": {"code", "message", "fields"?}}``."""

    error = ErrorBodySerializer()
