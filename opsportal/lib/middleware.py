"""Django's CommonMiddleware, minus the trailing-slash redirect for API and webhook paths.

A script POSTing to ``/api/v1/incidents/1/acknowledge`` would follow a 301 with a GET and lose
its body; it gets a JSON 404 that names the right URL instead (opsportal.errors.not_found)."""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware

from opsportal.errors import MACHINE_PREFIXES


class CommonMiddleware(DjangoCommonMiddleware):
    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.path_info.startswith(MACHINE_PREFIXES):
            return False
        return super().should_redirect_with_slash(request)
