"""Input fields that turn the names a script sends ("P1", "checkout", "alice") into rows, and
text fields that take text only.

Each rejects an unknown name with a message that repeats it, and for severities lists the valid
ones, so a typo in a script is fixed from the error alone.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.lifecycle import validate_labels
from incidents.models import Service, Severity
from incidents.selectors import service_list_for_user, severity_list_for_user
from opsportal.lib.exceptions import ApplicationError


class StrictCharField(serializers.CharField):
    """DRF's CharField, except that a number is refused instead of stored as its text: a script
    sending ``"note": 0`` has a bug, and "0" in the timeline would hide it."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(f"Must be a string, not {_json_kind(data)}.", code="invalid")
        return super().to_internal_value(data)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _user(field: serializers.Field[Any, Any, Any, Any]) -> AbstractBaseUser | AnonymousUser:
    request = field.context.get("request")
    return request.user if request is not None else AnonymousUser()


def _name(data: Any, what: str) -> str:
    if not isinstance(data, str) or not data.strip():
        raise serializers.ValidationError(f"Give the {what} by name, as a non-empty string.")
    return data.strip()


@extend_schema_field({"type": "string", "example": "P1", "description": "Severity name, e.g. P1."})
class SeverityNameField(serializers.Field[Severity, str, str, Any]):
    """A severity by name, case-insensitively ("p1" is P1)."""

    def to_internal_value(self, data: Any) -> Severity:
        name = _name(data, "severity")
        severities = list(severity_list_for_user(user=_user(self)))
        for severity in severities:
            if severity.name.lower() == name.lower():
                return severity
        valid = ", ".join(s.name for s in severities)
        raise serializers.ValidationError(f'Unknown severity "{name}". Valid severities: {valid}.')

    def to_representation(self, value: Severity) -> str:
        return value.name


@extend_schema_field({"type": "string", "example": "checkout", "description": "Service name."})
class ServiceNameField(serializers.Field[Service, str, str, Any]):
    def to_internal_value(self, data: Any) -> Service:
        name = _name(data, "service")
        service = service_list_for_user(user=_user(self)).filter(name__iexact=name).first()
        if service is None:
            raise serializers.ValidationError(
                f'Unknown service "{name}". GET /api/v1/services/ lists the services.'
            )
        return service

    def to_representation(self, value: Service) -> str:
        return value.name


@extend_schema_field({"type": "string", "example": "alice", "description": "Username."})
class UsernameField(serializers.Field[AbstractBaseUser, str, str, Any]):
    def to_internal_value(self, data: Any) -> AbstractBaseUser:
        name = _name(data, "user")
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: name}).first()
        if user is None:
            raise serializers.ValidationError(f'Unknown user "{name}".')
        if not user.is_active:
            raise serializers.ValidationError(f'User "{name}" is deactivated.')
        return user

    def to_representation(self, value: AbstractBaseUser) -> str:
        return value.get_username()


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "example": {"team": "payments", "region": "eu-west-1"},
    }
)
class LabelsField(serializers.Field[dict[str, str], dict[str, str], dict[str, str], Any]):
    """A flat string -> string map. Numbers are refused rather than coerced: labels become
    matchers, and "1" and 1 must not silently be the same thing."""

    def to_internal_value(self, data: Any) -> dict[str, str]:
        try:
            return validate_labels(data)
        except ApplicationError as exc:
            raise serializers.ValidationError(exc.message) from None

    def to_representation(self, value: dict[str, str]) -> dict[str, str]:
        return value
