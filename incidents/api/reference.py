"""Read-only reference lists a script needs to build valid requests: severities and services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.selectors import service_list_for_user, severity_list_for_user

from .base import JsonApiView
from .schema import errors
from .serializers import ServiceSerializer, SeveritySerializer


class SeverityListApi(JsonApiView):
    OutputSerializer = SeveritySerializer

    @extend_schema(
        operation_id="severity_list",
        summary="Severities, most urgent first, with their SLA targets in seconds",
        responses={200: SeveritySerializer(many=True), **errors()},
        tags=["reference"],
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(severity_list_for_user(user=request.user), many=True).data)


class ServiceListApi(JsonApiView):
    OutputSerializer = ServiceSerializer

    @extend_schema(
        operation_id="service_list",
        summary="Services an incident can affect",
        responses={200: ServiceSerializer(many=True), **errors()},
        tags=["reference"],
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(service_list_for_user(user=request.user), many=True).data)
