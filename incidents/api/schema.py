"""OpenAPI pieces: the Bearer security scheme and the documented error answers.

Imported by the API views, so the extension is registered before drf-spectacular builds a schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from .serializers import ErrorSerializer


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # drf-spectacular's metaclass is untyped
    """Shows the docs' "Authorize" button as an HTTP bearer token, with how to get one."""

    target_class = "incidents.api.auth.BearerTokenAuthentication"
    name = "bearerAuth"
    priority = 1  # over drf-spectacular's generic TokenAuthentication scheme

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "Send `Authorization: Bearer <token>`. Create your token (shown once, stored hashed) with "
                "`python manage.py create_api_token <username>` (`--rotate` replaces it)."
            ),
        }


# status -> (when it happens, example code, example message)
_ERRORS: dict[int, tuple[str, str, str]] = {
    400: (
        "Bad input: a field failed validation, an unknown name, or a malformed JSON body.",
        "invalid",
        'severity: Unknown severity "P9". Valid severities: P1, P2, P3, P4.',
    ),
    401: ("Missing or invalid credentials.", "authentication_failed", "Invalid token."),
    403: (
        "Signed in by session without a valid CSRF token.",
        "permission_denied",
        "CSRF Failed: CSRF token missing.",
    ),
    404: ("No such incident.", "not_found", "Incident #42 does not exist."),
    409: (
        "The incident's state forbids this action.",
        "illegal_transition",
        "Cannot acknowledge incident #42: it is closed.",
    ),
    415: (
        "The body is not JSON.",
        "unsupported_media_type",
        'Unsupported media type "text/plain" in request.',
    ),
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Documented error answers for ``extend_schema(responses=...)``; 401 and 403 always apply."""
    wanted = sorted({401, 403, *statuses})
    return {
        status: OpenApiResponse(
            response=ErrorSerializer,
            description=_ERRORS[status][0],
            examples=[
                OpenApiExample(
                    _ERRORS[status][2],
                    value={"error": {"code": _ERRORS[status][1], "message": _ERRORS[status][2]}},
                    response_only=True,
                    status_codes=[str(status)],
                )
            ],
        )
        for status in wanted
    }
