"""/api/v1/ for escalation: policies (levels nested), an incident's plan, escalate now, page.

Policies are kept as code by integrators, so the body shape is the contract in docs/escalation.md;
every refusal is a 400 ``{"error": {"code", "message", "fields": {field: [...]}}}`` naming the field.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import lifecycle
from incidents.api.base import INCIDENT_ID, JsonApiView, actor, get_incident
from incidents.api.schema import errors
from incidents.models import Source

from . import policies, snapshot
from .models import EscalationPolicy
from .plan import escalation_plan

_TARGET = inline_serializer("EscalationTarget", {
    "type": serializers.ChoiceField(choices=snapshot.TARGET_TYPES),
    "value": serializers.JSONField(help_text="username, schedule id, Slack channel id, routing key or emails"),
})
_LEVEL = inline_serializer("EscalationLevel", {
    "delay_seconds": serializers.IntegerField(min_value=0, max_value=snapshot.DELAY_MAX_SECONDS, required=False,
                                              help_text="Seconds after the previous level (level 1: after opening)."),
    "targets": serializers.ListField(child=_TARGET, min_length=1, max_length=snapshot.TARGETS_MAX),
})
_POLICY_IN = inline_serializer("EscalationPolicyInput", {
    "name": serializers.CharField(max_length=policies.NAME_MAX),
    "description": serializers.CharField(required=False, max_length=300),
    "repeat": serializers.IntegerField(min_value=0, max_value=snapshot.REPEAT_MAX, required=False),
    "escalate_on_sla_breach": serializers.BooleanField(required=False),
    "is_default": serializers.BooleanField(required=False),
    "levels": serializers.ListField(child=_LEVEL, min_length=1, max_length=snapshot.LEVELS_MAX),
})
_POLICY_OUT = inline_serializer("EscalationPolicy", {
    "id": serializers.IntegerField(), "name": serializers.CharField(), "description": serializers.CharField(),
    "repeat": serializers.IntegerField(), "escalate_on_sla_breach": serializers.BooleanField(),
    "is_default": serializers.BooleanField(), "levels": serializers.ListField(child=serializers.DictField()),
})
_PLAN = inline_serializer("EscalationPlan", {
    "policy": serializers.CharField(allow_null=True), "policy_id": serializers.IntegerField(allow_null=True),
    "level": serializers.IntegerField(), "repeat": serializers.IntegerField(),
    "next_at": serializers.DateTimeField(allow_null=True),
    "steps": serializers.ListField(child=serializers.DictField()),
    "pages": serializers.ListField(child=serializers.DictField()),
})
_PAGE_IN = inline_serializer("EscalationPage", {
    "type": serializers.ChoiceField(choices=["user", "schedule"]), "value": serializers.JSONField(),
})


def _policy(policy_id: int) -> EscalationPolicy:
    try:
        return EscalationPolicy.objects.prefetch_related("levels").get(pk=policy_id)
    except EscalationPolicy.DoesNotExist:
        raise NotFound(f"Escalation policy #{policy_id} does not exist.") from None


def _body(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise snapshot.invalid("body", "Give a JSON object.")
    return dict(data)


class PolicyCollectionApi(JsonApiView):
    @extend_schema(operation_id="escalation_policy_list", summary="Escalation policies, levels nested",
                   responses={200: _POLICY_OUT}, tags=["escalation"])
    def get(self, request: Request) -> Response:
        rows = EscalationPolicy.objects.prefetch_related("levels").order_by("name")[:500]
        return Response([policies.policy_data(p) for p in rows])

    @extend_schema(operation_id="escalation_policy_create", summary="Create an escalation policy",
                   request=_POLICY_IN, responses={201: _POLICY_OUT, **errors(400, 415)}, tags=["escalation"])
    def post(self, request: Request) -> Response:
        policy = policies.policy_save(data=_body(request))
        return Response(policies.policy_data(_policy(policy.pk)), status=status.HTTP_201_CREATED)


class PolicyDetailApi(JsonApiView):
    @extend_schema(operation_id="escalation_policy_detail", summary="One escalation policy",
                   responses={200: _POLICY_OUT, **errors(404)}, tags=["escalation"])
    def get(self, request: Request, policy_id: int) -> Response:
        return Response(policies.policy_data(_policy(policy_id)))

    @extend_schema(operation_id="escalation_policy_update",
                   summary="Replace a policy (incidents already escalating keep their snapshot)",
                   request=_POLICY_IN, responses={200: _POLICY_OUT, **errors(400, 404, 415)}, tags=["escalation"])
    def put(self, request: Request, policy_id: int) -> Response:
        with transaction.atomic():
            policy = policies.policy_save(data=_body(request), policy=_policy(policy_id))
        return Response(policies.policy_data(_policy(policy.pk)))

    @extend_schema(operation_id="escalation_policy_delete", summary="Delete a policy", request=None,
                   responses={204: None, **errors(404)}, tags=["escalation"])
    def delete(self, request: Request, policy_id: int) -> Response:
        policies.policy_delete(policy=policy_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IncidentEscalationApi(JsonApiView):
    @extend_schema(operation_id="incident_escalation", summary="What happens next: the escalation plan",
                   description="Steps sent (when, to whom), pending (when, whom they will reach) and cancelled.",
                   parameters=[INCIDENT_ID], responses={200: _PLAN, **errors(404)}, tags=["escalation"])
    def get(self, request: Request, incident_id: int) -> Response:
        return Response(escalation_plan(get_incident(request, incident_id)).to_json())


class IncidentEscalateApi(JsonApiView):
    @extend_schema(operation_id="incident_escalate", summary="Escalate now: page the next level",
                   request=None, parameters=[INCIDENT_ID], responses={200: _PLAN, **errors(404, 409)},
                   tags=["escalation"])
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        lifecycle.incident_escalate(incident=incident, reason="manual", actor=actor(request), source=Source.API)
        incident.refresh_from_db()
        return Response(escalation_plan(incident).to_json())


class IncidentPageApi(JsonApiView):
    @extend_schema(operation_id="incident_page", summary="Page a user or schedule now",
                   request=_PAGE_IN, parameters=[INCIDENT_ID], responses={200: _PLAN, **errors(400, 404, 409)},
                   tags=["escalation"])
    def post(self, request: Request, incident_id: int) -> Response:
        incident = get_incident(request, incident_id)
        body = _body(request)
        if body.get("type") not in ("user", "schedule"):
            raise snapshot.invalid("type", 'Page a "user" or a "schedule".')
        target = snapshot.parse_targets([{"type": body["type"], "value": body.get("value")}], "target")[0]
        lifecycle.incident_page(incident=incident, target=target, actor=actor(request), source=Source.API)
        incident.refresh_from_db()
        return Response(escalation_plan(incident).to_json())
