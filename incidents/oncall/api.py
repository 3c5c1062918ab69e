"""/api/v1/ for on-call: schedules (layers nested, participants by username), overrides, "who is
on call at t", and the signed-in user's contact methods. Same conventions as the incident API:
JSON only, Bearer tokens, errors as {"error": {"code", "message", "fields"}}. Anyone signed in
reads schedules; staff change them; each user changes only their own contact methods."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.base import JsonApiView, actor
from incidents.api.fields import StrictCharField
from incidents.api.schema import errors
from opsportal.lib.exceptions import ApplicationError

from . import selectors, services, summary
from .models import ContactMethod, Layer, Override, Schedule

SCHEDULE_ID = OpenApiParameter("schedule_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The schedule's id.")
TAGS = ["on-call"]


def parse_time(value: Any, field_name: str) -> datetime:
    """ISO 8601, with or without an offset (without: the caller decides the zone)."""
    if not isinstance(value, str):
        raise services.invalid(field_name, f"{field_name} must be an ISO 8601 time string, e.g. 2026-12-01T09:00:00Z.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise services.invalid(field_name, f'{field_name}: "{value[:60]}" is not an ISO 8601 time, '
                                           "e.g. 2026-12-01T09:00:00Z.") from None
    if not services.YEARS[0] <= parsed.year <= services.YEARS[1]:
        raise services.invalid(field_name, f"{field_name} must be between the years {services.YEARS[0]} "
                                           f"and {services.YEARS[1]}.")
    return parsed


def in_zone(value: datetime, zone: str) -> datetime:
    """A time without an offset is read as wall-clock time in the schedule's zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=ZoneInfo(zone))
    return value


@extend_schema_field({"type": "string", "example": "2026-11-30T09:00:00",
                      "description": "Local date and time in the schedule's zone."})
class TimeField(serializers.Field[datetime, Any, str, Any]):
    def to_internal_value(self, data: Any) -> datetime:
        try:
            return parse_time(data, self.field_name or "time")
        except ApplicationError as exc:
            raise serializers.ValidationError(exc.message) from None

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class _LayerInput(serializers.Serializer[Any]):
    name = StrictCharField(required=False, allow_blank=True, default="", max_length=100)
    rotation = serializers.ChoiceField(choices=Layer.Rotation.choices)
    length_seconds = serializers.IntegerField(required=False, allow_null=True, default=None,
                                              help_text="Required for custom: seconds per turn (60 to 31622400).")
    handoff = TimeField(help_text="The first handoff, local time in the schedule's zone.")
    participants = serializers.ListField(child=StrictCharField(max_length=150), max_length=services.MAX_PARTICIPANTS,
                                         help_text="Usernames in rotation order.")


class _ScheduleInput(serializers.Serializer[Any]):
    name = StrictCharField(max_length=100)
    time_zone = StrictCharField(max_length=64, default="UTC", help_text="IANA name, e.g. Europe/London.")
    description = StrictCharField(required=False, allow_blank=True, default="", max_length=2000)
    layers = _LayerInput(many=True, required=False, default=list,
                         help_text="Bottom first: where a later layer has someone on call, it wins.")


def _specs(layers: list[dict[str, Any]]) -> list[services.LayerSpec]:
    return [services.LayerSpec(rotation=layer["rotation"], handoff=layer["handoff"], participants=layer["participants"],
                               length_seconds=layer["length_seconds"], name=layer["name"]) for layer in layers]


class LayerSerializer(serializers.ModelSerializer[Layer]):
    handoff = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()

    class Meta:
        model = Layer
        fields = ["id", "name", "order", "rotation", "length_seconds", "handoff", "participants"]

    def get_handoff(self, obj: Layer) -> str:
        return obj.handoff.isoformat()

    def get_participants(self, obj: Layer) -> list[str | None]:
        """Usernames in rotation order; null for a deleted user's turn."""
        turns = sorted(obj.participants.all(), key=lambda p: (p.position, p.pk))
        return [p.user.get_username() if p.user else None for p in turns]


class OverrideSerializer(serializers.ModelSerializer[Override]):
    user = serializers.CharField(source="user.username")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)

    class Meta:
        model = Override
        fields = ["id", "user", "starts_at", "ends_at", "created_by", "created_at"]


class ScheduleSerializer(serializers.ModelSerializer[Schedule]):
    layers = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = ["id", "name", "time_zone", "description", "layers", "created_at", "updated_at"]

    @extend_schema_field(LayerSerializer(many=True))
    def get_layers(self, obj: Schedule) -> list[dict[str, Any]]:
        layers = sorted(obj.layers.all(), key=lambda layer: (layer.order, layer.pk))
        return list(LayerSerializer(layers, many=True).data)


def _staff(request: Request) -> User:
    user = actor(request)
    if not isinstance(user, User) or not user.is_staff:
        raise PermissionDenied("Only staff can change on-call schedules.")
    return user


def _schedule(request: Request, schedule_id: int) -> Schedule:
    try:
        return selectors.schedule_get_for_user(user=request.user, pk=schedule_id)
    except Schedule.DoesNotExist:
        raise NotFound(f"Schedule #{schedule_id} does not exist.") from None


def _fresh(request: Request, schedule: Schedule) -> dict[str, Any]:
    """The schedule as stored now (its layers were just replaced: the prefetch is stale)."""
    return dict(ScheduleSerializer(selectors.schedule_get_for_user(user=request.user, pk=schedule.pk)).data)


def _input(request: Request, *, partial: bool = False) -> dict[str, Any]:
    serializer = _ScheduleInput(data=request.data, partial=partial, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ScheduleCollectionApi(JsonApiView):
    @extend_schema(operation_id="schedule_list", summary="On-call schedules with their layers",
                   responses={200: ScheduleSerializer(many=True), **errors()}, tags=TAGS)
    def get(self, request: Request) -> Response:
        rows = selectors.schedule_list_for_user(user=request.user)
        return Response(ScheduleSerializer(rows, many=True).data)

    @extend_schema(operation_id="schedule_create", summary="Create a schedule (staff)", request=_ScheduleInput,
                   responses={201: ScheduleSerializer, **errors(400)}, tags=TAGS)
    def post(self, request: Request) -> Response:
        _staff(request)
        data = _input(request)
        schedule = services.schedule_create(name=data["name"], time_zone=data["time_zone"],
                                            description=data["description"], layers=_specs(data["layers"]))
        return Response(_fresh(request, schedule), status=status.HTTP_201_CREATED)


class ScheduleDetailApi(JsonApiView):
    @extend_schema(operation_id="schedule_get", summary="One schedule", parameters=[SCHEDULE_ID],
                   responses={200: ScheduleSerializer, **errors(404)}, tags=TAGS)
    def get(self, request: Request, schedule_id: int) -> Response:
        return Response(ScheduleSerializer(_schedule(request, schedule_id)).data)

    @extend_schema(operation_id="schedule_replace", summary="Replace a schedule, layers included (staff)",
                   parameters=[SCHEDULE_ID], request=_ScheduleInput,
                   responses={200: ScheduleSerializer, **errors(400, 404)}, tags=TAGS)
    def put(self, request: Request, schedule_id: int) -> Response:
        _staff(request)
        schedule = _schedule(request, schedule_id)
        data = _input(request)
        services.schedule_update(schedule=schedule, name=data["name"], time_zone=data["time_zone"],
                                 description=data["description"], layers=_specs(data["layers"]))
        return Response(_fresh(request, schedule))

    @extend_schema(operation_id="schedule_update", summary="Change some fields; layers, if given, replace all (staff)",
                   parameters=[SCHEDULE_ID], request=_ScheduleInput,
                   responses={200: ScheduleSerializer, **errors(400, 404)}, tags=TAGS)
    def patch(self, request: Request, schedule_id: int) -> Response:
        _staff(request)
        schedule = _schedule(request, schedule_id)
        data = _input(request, partial=True)
        services.schedule_update(schedule=schedule, name=data.get("name"), time_zone=data.get("time_zone"),
                                 description=data.get("description"),
                                 layers=_specs(data["layers"]) if "layers" in data else None)
        return Response(_fresh(request, schedule))

    @extend_schema(operation_id="schedule_delete", summary="Delete a schedule (staff)", parameters=[SCHEDULE_ID],
                   request=None, responses={204: None, **errors(404)}, tags=TAGS)
    def delete(self, request: Request, schedule_id: int) -> Response:
        _staff(request)
        services.schedule_delete(schedule=_schedule(request, schedule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _OncallOutput(serializers.Serializer[Any]):
    schedule = serializers.IntegerField()
    at = serializers.DateTimeField()
    users = serializers.ListField(child=serializers.CharField())
    next_at = serializers.DateTimeField(allow_null=True, help_text="When the people on call next change.")
    next_users = serializers.ListField(child=serializers.CharField())


class ScheduleOncallApi(JsonApiView):
    @extend_schema(
        operation_id="schedule_oncall", summary="Who is on call at a time (default: now)",
        parameters=[SCHEDULE_ID, OpenApiParameter("at", OpenApiTypes.STR, description=(
            "ISO 8601 time; without an offset it is read in the schedule's zone. Default: now."))],
        responses={200: _OncallOutput, **errors(400, 404)}, tags=TAGS,
    )
    def get(self, request: Request, schedule_id: int) -> Response:
        schedule = _schedule(request, schedule_id)
        raw = request.query_params.get("at")
        at = timezone.now() if raw is None else in_zone(parse_time(raw, "at"), schedule.time_zone)
        found = summary.now_and_next(schedule, at)
        return Response(_OncallOutput({
            "schedule": schedule.pk, "at": at, "users": [u.get_username() for u in found.now],
            "next_at": found.next_at, "next_users": [u.get_username() for u in found.next_users],
        }).data)


class _OverrideInput(serializers.Serializer[Any]):
    user = StrictCharField(max_length=150, help_text="Username of who covers.")
    starts_at = TimeField(help_text="ISO 8601; without an offset, in the schedule's zone.")
    ends_at = TimeField(help_text="ISO 8601; without an offset, in the schedule's zone.")


class OverrideCollectionApi(JsonApiView):
    @extend_schema(operation_id="schedule_override_list", summary="A schedule's overrides that have not ended",
                   parameters=[SCHEDULE_ID], responses={200: OverrideSerializer(many=True), **errors(404)}, tags=TAGS)
    def get(self, request: Request, schedule_id: int) -> Response:
        schedule = _schedule(request, schedule_id)
        rows = selectors.override_list_for_user(user=request.user, schedule=schedule).filter(ends_at__gt=timezone.now())
        return Response(OverrideSerializer(rows[:500], many=True).data)

    @extend_schema(operation_id="schedule_override_create", summary="Someone covers a window (staff)",
                   parameters=[SCHEDULE_ID], request=_OverrideInput,
                   responses={201: OverrideSerializer, **errors(400, 404)}, tags=TAGS)
    def post(self, request: Request, schedule_id: int) -> Response:
        user = _staff(request)
        schedule = _schedule(request, schedule_id)
        serializer = _OverrideInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        override = services.override_create(
            schedule=schedule, username=data["user"], starts_at=in_zone(data["starts_at"], schedule.time_zone),
            ends_at=in_zone(data["ends_at"], schedule.time_zone), actor=user,
        )
        return Response(OverrideSerializer(override).data, status=status.HTTP_201_CREATED)


class OverrideDetailApi(JsonApiView):
    @extend_schema(operation_id="schedule_override_delete", summary="Remove an override (staff)",
                   parameters=[SCHEDULE_ID], request=None, responses={204: None, **errors(404)}, tags=TAGS)
    def delete(self, request: Request, schedule_id: int, override_id: int) -> Response:
        _staff(request)
        schedule = _schedule(request, schedule_id)
        override = selectors.override_list_for_user(user=request.user, schedule=schedule).filter(pk=override_id).first()
        if override is None:
            raise NotFound(f"Override #{override_id} does not exist on this schedule.")
        services.override_delete(override=override)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactMethodSerializer(serializers.ModelSerializer[ContactMethod]):
    class Meta:
        model = ContactMethod
        fields = ["id", "kind", "value", "verified", "created_at"]


class _ContactMethodInput(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ContactMethod.Kind.choices)
    value = StrictCharField(max_length=255, help_text="Email address, Slack member ID or PagerDuty integration key.")


def _me(request: Request) -> User:
    user = actor(request)
    if not isinstance(user, User):
        raise PermissionDenied("Contact methods belong to signed-in users.")
    return user


class ContactMethodCollectionApi(JsonApiView):
    @extend_schema(operation_id="contact_method_list", summary="Your contact methods",
                   responses={200: ContactMethodSerializer(many=True), **errors()}, tags=TAGS)
    def get(self, request: Request) -> Response:
        return Response(ContactMethodSerializer(selectors.contact_methods_for_user(user=_me(request)), many=True).data)

    @extend_schema(operation_id="contact_method_create", summary="Add a contact method", request=_ContactMethodInput,
                   responses={201: ContactMethodSerializer, **errors(400)}, tags=TAGS)
    def post(self, request: Request) -> Response:
        user = _me(request)
        serializer = _ContactMethodInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        method = services.contact_method_create(user=user, kind=serializer.validated_data["kind"],
                                                value=serializer.validated_data["value"])
        return Response(ContactMethodSerializer(method).data, status=status.HTTP_201_CREATED)


class ContactMethodDetailApi(JsonApiView):
    @extend_schema(operation_id="contact_method_delete", summary="Remove one of your contact methods", request=None,
                   parameters=[OpenApiParameter("method_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
                   responses={204: None, **errors(404)}, tags=TAGS)
    def delete(self, request: Request, method_id: int) -> Response:
        method = selectors.contact_methods_for_user(user=_me(request)).filter(pk=method_id).first()
        if method is None:  # someone else's is as absent as a missing one
            raise NotFound(f"Contact method #{method_id} does not exist.")
        services.contact_method_delete(method=method)
        return Response(status=status.HTTP_204_NO_CONTENT)
