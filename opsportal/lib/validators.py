"""Validators Django does not ship."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from .outbound import OutboundRefused, check_url

_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")


@deconstructible
class ServiceURLValidator:
    """An http(s) base URL of a service on the operator's network.

    Unlike Django's URLValidator it accepts single-label hosts (``http://alertmanager:9093``), the
    usual address inside docker-compose and Kubernetes. It applies the static half of the outbound
    guard (``opsportal.lib.outbound.check_url``: no credentials, no always-refused address) and
    refuses ``?`` and ``#``: callers append API paths to a base URL, and
    ``http://internal/secret#`` would turn that path into a fragment and fetch ``/secret``. Where
    the host resolves is checked when a request is made, since DNS changes."""

    message = "Enter an http(s) URL such as http://alertmanager:9093 or https://am.example.com."

    def __call__(self, value: str) -> None:
        try:
            parts = urlsplit(value)
            port = parts.port  # raises ValueError for a bad port
        except ValueError:
            raise ValidationError(self.message, code="invalid", params={"value": value}) from None
        if "#" in value or "?" in value:
            raise ValidationError(
                "Give the base URL alone, without “?” or “#”: e.g. http://alertmanager:9093 or "
                "https://example.com/alertmanager.",
                code="invalid",
                params={"value": value},
            )
        if "@" in parts.netloc:
            raise ValidationError(
                "Remove the user name or password (the part before “@”): Opsportal does not send "
                "credentials in URLs.",
                code="invalid",
                params={"value": value},
            )
        host = parts.hostname or ""
        ok_host = bool(_HOST.match(host)) or (":" in host and parts.netloc.startswith("["))
        if parts.scheme not in ("http", "https") or not ok_host or port == 0:
            raise ValidationError(self.message, code="invalid", params={"value": value})
        try:
            check_url(value)
        except OutboundRefused as exc:
            raise ValidationError(exc.message, code="invalid", params={"value": value}) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServiceURLValidator)
