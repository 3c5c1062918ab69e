"""What every incident API view shares: JSON in, JSON out, and one way to find the incident."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotAuthenticated, NotFound, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from incidents.models import Incident
from incidents.selectors import incident_get_for_user
from opsportal.lib.jsonlimits import TooDeep, check_depth


def _storable(value: Any, where: str = "body") -> None:
    """Raise ParseError for text no database column can hold: NUL characters (PostgreSQL refuses
    them in text and jsonb) and lone UTF-16 surrogates (not encodable as UTF-8)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ParseError(f"JSON parse error - {where} contains a NUL character (\\u0000).")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError(f"JSON parse error - {where} contains an unpaired surrogate escape.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, f"a key in {where}")
            _storable(item, f"{where}.{key}" if where != "body" else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _storable(item, f"{where}[{index}]")


class StorableJSONParser(JSONParser):
    """JSON whose strings a database can store, nested at most MAX_DEPTH levels (checked on the
    bytes before parsing: deeper bodies parse, then fail with RecursionError wherever they are
    serialised again); anything else is a 400 naming where it is."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        body = stream.read() if stream is not None else b""
        try:
            check_depth(body)
        except TooDeep as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
            _storable(data)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        return data


class JsonApiView(APIView):
    # Bodies are JSON only: a form-encoded or text body gets 415 rather than being half-read
    # (labels, for one, cannot be expressed in a form). No docstring: drf-spectacular would
    # show it as every operation's description.

    parser_classes = [StorableJSONParser]
    renderer_classes = [JSONRenderer]


INCIDENT_ID = OpenApiParameter(
    "incident_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The incident's id (its #number)."
)


def actor(request: Request) -> AbstractBaseUser:
    """The signed-in user who acts; every API view requires one (IsAuthenticated)."""
    user = request.user
    if not isinstance(user, AbstractBaseUser):
        raise NotAuthenticated()
    return user


def get_incident(request: Request, incident_id: int) -> Incident:
    """The incident the URL names, as the signed-in user may see it; 404 naming the id if not."""
    try:
        return incident_get_for_user(user=request.user, pk=incident_id)
    except Incident.DoesNotExist:
        raise NotFound(f"Incident #{incident_id} does not exist.") from None


def validated(serializer_class: type, request: Request, **context: Any) -> dict[str, Any]:
    """Parse and validate the body; a malformed body or a bad field raises the matching 4xx."""
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
