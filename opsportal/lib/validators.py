"""Validators Django does not ship."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")


@deconstructible
class ServiceURLValidator:
    """An http(s) base URL of a service on the operator's network.

    Unlike Django's URLValidator it accepts single-label hosts (``http://alertmanager:9093``), the
    usual address inside docker-compose and Kubernetes."""

    message = "Enter an http(s) URL such as http://alertmanager:9093 or https://am.example.com."

    def __call__(self, value: str) -> None:
        try:
            parts = urlsplit(value)
            port = parts.port  # raises ValueError for a bad port
        except ValueError:
            raise ValidationError(self.message, code="invalid", params={"value": value}) from None
        host = parts.hostname or ""
        ok_host = bool(_HOST.match(host)) or (":" in host and parts.netloc.startswith("["))
        if parts.scheme not in ("http", "https") or not ok_host or parts.username or port == 0:
            raise ValidationError(self.message, code="invalid", params={"value": value})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServiceURLValidator)
