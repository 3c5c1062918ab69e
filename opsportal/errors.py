"""Error pages: JSON for machine paths (API, webhooks), the HTML templates for people."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults

MACHINE_PREFIXES = ("/api/", "/hooks/")


def _is_machine(request: HttpRequest) -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_machine(request):
        message = f"Nothing at {request.method} {request.path}."
        if not request.path.endswith("/") and _resolves(request.path + "/"):
            message += f" Did you mean {request.path}/ (with a trailing slash)?"
        return JsonResponse({"error": {"code": "not_found", "message": message}}, status=404)
    return defaults.page_not_found(request, exception)


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_machine(request):
        return JsonResponse(
            {"error": {"code": "server_error", "message": "Internal error; it was logged with this request's id."}},
            status=500,
        )
    return defaults.server_error(request)


def too_large(request: HttpRequest) -> JsonResponse:
    """413 for a machine path whose body is over DATA_UPLOAD_MAX_MEMORY_SIZE (Django raises
    RequestDataTooBig, which would otherwise become its HTML 400 page)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        size = f"{int(request.META.get('CONTENT_LENGTH') or 0)} bytes"
    except ValueError:
        size = "too large"
    return JsonResponse(
        {"error": {"code": "too_large",
                   "message": f"The request body is {size}; the limit is {limit} bytes (MAX_REQUEST_BYTES)."}},
        status=413,
    )
