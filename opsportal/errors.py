"""Error pages: JSON for machine paths (API, webhooks), the HTML templates for people."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

MACHINE_PREFIXES = ("/api/", "/hooks/")


def _is_machine(request: HttpRequest) -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_machine(request):
        return JsonResponse(
            {"error": {"code": "not_found", "message": f"Nothing at {request.method} {request.path}."}}, status=404
        )
    return defaults.page_not_found(request, exception)  # type: ignore[arg-type]


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_machine(request):
        return JsonResponse(
            {"error": {"code": "server_error", "message": "Internal error; it was logged with this request's id."}},
            status=500,
        )
    return defaults.server_error(request)
