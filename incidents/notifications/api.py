"""/api/v1/ for notifications: an incident's deliveries (and retry now), message templates (list,
update, reset, preview) and routes. Same conventions as the incident API: JSON only, Bearer
tokens, errors as {"error": {...}}."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.base import INCIDENT_ID, JsonApiView, actor, get_incident, validated
from incidents.api.fields import ServiceNameField, StrictCharField
from incidents.api.schema import errors
from incidents.models import Incident, Severity
from incidents.registry import registry
from incidents.selectors import incident_get_for_user

from . import message_templates, outbox, routing, selectors
from .models import Delivery, Route


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    target = serializers.SerializerMethodField()
    external_url = serializers.CharField(source="conversation.external_url")
    text = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = ["id", "kind", "channel", "target", "status", "attempts", "last_error", "next_attempt_at",
                  "created_at", "sent_at", "external_ref", "external_url", "text"]

    def get_target(self, obj: Delivery) -> str:
        channel = registry.message_channel(obj.channel)
        return channel.display_target(obj.target) if channel else obj.target

    def get_text(self, obj: Delivery) -> str:
        return str(obj.payload.get("text", ""))


class IncidentDeliveryListApi(JsonApiView):
    OutputSerializer = DeliverySerializer

    @extend_schema(
        operation_id="incident_deliveries",
        summary="Messages about one incident: where they went, their status, attempts and last error",
        description="Newest first, at most 200. Status is pending, sent, failed (will retry), dead, or "
                    "preview (the channel is not configured: the message as it would be posted).",
        parameters=[INCIDENT_ID], responses={200: DeliverySerializer(many=True), **errors(404)},
        tags=["notifications"],
    )
    def get(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        rows = selectors.delivery_list_for_incident(user=request.user, incident=incident)[:200]
        return Response(self.OutputSerializer(rows, many=True).data)


class DeliveryRetryApi(JsonApiView):
    @extend_schema(
        operation_id="delivery_retry", summary="Send a failed or dead delivery again now", request=None,
        responses={200: DeliverySerializer, **errors(404, 409)}, tags=["notifications"],
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        actor(request)
        try:
            selectors.delivery_get_for_user(user=request.user, pk=delivery_id)
        except Delivery.DoesNotExist:
            raise NotFound(f"Delivery #{delivery_id} does not exist.") from None
        row = outbox.delivery_retry_now(delivery=delivery_id)
        return Response(DeliverySerializer(Delivery.objects.select_related("conversation").get(pk=row.pk)).data)


class TemplateSerializer(serializers.Serializer[Any]):
    channel = serializers.CharField()
    event = serializers.CharField()
    event_label = serializers.CharField()
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField()
    is_default = serializers.BooleanField()


class TemplateListApi(JsonApiView):
    @extend_schema(
        operation_id="notification_template_list",
        summary="Every message template: each event on each installed channel, edited or built-in",
        responses={200: TemplateSerializer(many=True), **errors()}, tags=["notifications"],
    )
    def get(self, request: Request) -> Response:
        entries = message_templates.template_entries()
        return Response(TemplateSerializer([e.__dict__ for e in entries], many=True).data)


class _TemplateInput(serializers.Serializer[Any]):
    subject = StrictCharField(required=False, allow_blank=True, default="", max_length=500, trim_whitespace=False)
    body = StrictCharField(max_length=8_000, trim_whitespace=False)
    incident = serializers.IntegerField(required=False, allow_null=True, default=None,
                                        help_text="Render against this incident (else a sample one).")


def _staff(request: Request) -> None:
    user = actor(request)
    if not getattr(user, "is_staff", False):
        raise PermissionDenied("Only staff can change message templates and routes.")


def _incident_or_none(request: Request, pk: int | None) -> Incident | None:
    if pk is None:
        return None
    try:
        return incident_get_for_user(user=request.user, pk=pk)
    except Incident.DoesNotExist:
        raise NotFound(f"Incident #{pk} does not exist.") from None


class TemplateDetailApi(JsonApiView):
    @extend_schema(operation_id="notification_template_get", summary="One message template",
                   responses={200: TemplateSerializer, **errors(404)}, tags=["notifications"])
    def get(self, request: Request, channel: str, event: str) -> Response:
        return Response(TemplateSerializer(message_templates.template_entry(channel=channel, event=event).__dict__).data)

    @extend_schema(
        operation_id="notification_template_update",
        summary="Change a message template (refused with 400 when it does not render)",
        request=_TemplateInput, responses={200: TemplateSerializer, **errors(400, 403, 404)}, tags=["notifications"],
    )
    def put(self, request: Request, channel: str, event: str) -> Response:
        _staff(request)
        data = validated(_TemplateInput, request)
        entry = message_templates.template_update(
            channel=channel, event=event, subject=data["subject"], body=data["body"], actor=actor(request),
            incident=_incident_or_none(request, data["incident"]),
        )
        return Response(TemplateSerializer(entry.__dict__).data)

    @extend_schema(operation_id="notification_template_reset", summary="Back to the built-in wording",
                   responses={200: TemplateSerializer, **errors(403, 404)}, tags=["notifications"])
    def delete(self, request: Request, channel: str, event: str) -> Response:
        _staff(request)
        return Response(TemplateSerializer(message_templates.template_reset(channel=channel, event=event).__dict__).data)


class PreviewSerializer(serializers.Serializer[Any]):
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField()


class TemplatePreviewApi(JsonApiView):
    @extend_schema(
        operation_id="notification_template_preview",
        summary="Render a template without saving it, against an incident or a sample one",
        request=_TemplateInput, responses={200: PreviewSerializer, **errors(400, 404)}, tags=["notifications"],
    )
    def post(self, request: Request, channel: str, event: str) -> Response:
        data = validated(_TemplateInput, request)
        rendered = message_templates.template_preview(
            channel=channel, event=event, subject=data["subject"], body=data["body"],
            incident=_incident_or_none(request, data["incident"]),
        )
        return Response(PreviewSerializer(rendered).data)


class RouteSerializer(serializers.ModelSerializer[Route]):
    service = serializers.CharField(source="service.name", allow_null=True, default=None)
    severities = serializers.SlugRelatedField[Severity](slug_field="name", many=True, read_only=True)
    target = serializers.SerializerMethodField()

    class Meta:
        model = Route
        fields = ["id", "channel", "target", "service", "severities", "enabled", "created_at"]

    def get_target(self, obj: Route) -> str:
        channel = registry.message_channel(obj.channel)
        return channel.display_target(obj.target) if channel else obj.target


class _RouteInput(serializers.Serializer[Any]):
    channel = StrictCharField(max_length=32)
    target = StrictCharField(max_length=255)
    service = ServiceNameField(required=False, allow_null=True, default=None)
    severities = serializers.SlugRelatedField[Severity](
        slug_field="name", many=True, required=False, default=list, queryset=Severity.objects.all()
    )


class RouteCollectionApi(JsonApiView):
    @extend_schema(operation_id="notification_route_list", summary="Routes: which targets get which incidents",
                   responses={200: RouteSerializer(many=True), **errors()}, tags=["notifications"])
    def get(self, request: Request) -> Response:
        return Response(RouteSerializer(selectors.route_list_for_user(user=request.user), many=True).data)

    @extend_schema(operation_id="notification_route_create", summary="Add a route",
                   request=_RouteInput, responses={201: RouteSerializer, **errors(400, 403)}, tags=["notifications"])
    def post(self, request: Request) -> Response:
        _staff(request)
        data = validated(_RouteInput, request)
        route = routing.route_create(channel=data["channel"], target=data["target"], service=data["service"],
                                     severities=list(data["severities"]))
        return Response(RouteSerializer(route).data, status=status.HTTP_201_CREATED)


class RouteDetailApi(JsonApiView):
    @extend_schema(operation_id="notification_route_delete", summary="Remove a route", request=None,
                   responses={204: None, **errors(403, 404)}, tags=["notifications"])
    def delete(self, request: Request, route_id: int) -> Response:
        _staff(request)
        routing.route_delete(route=route_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
