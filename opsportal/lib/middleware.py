"""Django's CommonMiddleware, minus the trailing-slash redirect for API and webhook paths, and
with JSON answers where Django would send its HTML error page to a script.

A script POSTing to ``/api/v1/incidents/1/acknowledge`` would follow a 301 with a GET and lose
its body; it gets a JSON 404 that names the right URL instead (opsportal.errors.not_found). A body
over DATA_UPLOAD_MAX_MEMORY_SIZE on those paths is a JSON 413 rather than Django's HTML 400."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware

from opsportal.errors import MACHINE_PREFIXES, too_large


class CommonMiddleware(DjangoCommonMiddleware):
    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig) and request.path_info.startswith(MACHINE_PREFIXES):
            return too_large(request)
        return None

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.path_info.startswith(MACHINE_PREFIXES):
            return False
        return super().should_redirect_with_slash(request)


HOOKS_POOL_PATHS = ("/hooks/", "/health", "/metrics")


class HooksOnlyMiddleware:
    """The hooks pool (bin/serve hooks) answers machine endpoints only: a page sent there by a
    misrouted proxy gets a 404 saying where pages live, instead of taking a webhook's thread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(HOOKS_POOL_PATHS):
            return self.get_response(request)
        return JsonResponse({"error": {
            "code": "not_found",
            "message": f"This port serves /hooks/, /health and /metrics only; open {settings.PUBLIC_URL}"
                       f"{request.path_info} for pages and the API.",
        }}, status=404)
