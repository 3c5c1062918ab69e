"""A small client for Alertmanager's HTTP API v2 (silences, and posting alerts in tests and demos).

It speaks through ``opsportal.lib.http`` (so the outbound-URL guard applies, docs/security.md) and
turns every failure into :class:`AlertmanagerError` whose message says which Alertmanager failed
and how: its status code, a timeout, connection refused, or refused by the outbound policy. A
message never quotes what the server answered: whoever can make Opsportal call a URL must not be
able to read the answer through the error. The answer goes to the server log instead.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import quote

from opsportal.lib import http

logger = logging.getLogger(__name__)


class Matcher(TypedDict):
    name: str
    value: str
    isRegex: bool
    isEqual: bool


class AlertmanagerError(Exception):
    """Alertmanager could not be reached or refused the request; ``message`` is for people.

    ``not_found`` says Alertmanager does not know the silence (404, or an older Alertmanager's
    "not found" answer), so callers can decide without reading the answer themselves.
    """

    def __init__(self, message: str, *, status_code: int | None = None, not_found: bool = False):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.not_found = not_found


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class AlertmanagerClient:
    """Alertmanager at ``base_url`` (e.g. ``http://alertmanager:9093``, with any path prefix)."""

    def __init__(self, base_url: str, *, timeout: float | tuple[float, float] = http.DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, *, json_body: Any = None) -> Any:
        url = f"{self.base_url}/api/v2/{path}"
        try:
            response = http.request(method, url, json_body=json_body, timeout=self.timeout)
        except http.HttpError as exc:
            if exc.refused_rule:
                raise AlertmanagerError(f"Alertmanager was not asked: {exc.message}") from None
            if exc.status_code is None:
                raise AlertmanagerError(f"Alertmanager is unreachable: {exc.message}") from None
            logger.warning(
                "Alertmanager %s %s answered %s: %s", method, url, exc.status_code, exc.body,
                extra={"upstream_status": exc.status_code},
            )
            raise AlertmanagerError(
                f"Alertmanager at {self.base_url} answered {http.status_text(exc.status_code)} to "
                f"{method} /api/v2/{path.split('/', 1)[0]}; its answer is in the Opsportal server log.",
                status_code=exc.status_code,
                not_found=exc.status_code == 404 or "not found" in exc.body.lower(),
            ) from None
        if 300 <= response.status_code < 400:
            raise AlertmanagerError(
                f"Alertmanager at {self.base_url} answered {http.status_text(response.status_code)}, "
                "a redirect, which Opsportal does not follow: set the Alertmanager URL to the "
                "address Alertmanager itself answers on.",
                status_code=response.status_code,
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise AlertmanagerError(
                f"Alertmanager at {self.base_url} answered {url} with something that is not JSON "
                f"(is this the Alertmanager base URL?)."
            ) from None

    def create_silence(
        self,
        *,
        matchers: list[Matcher],
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
    ) -> str:
        """Create a silence; return Alertmanager's silence id."""
        data = self._call(
            "POST",
            "silences",
            json_body={
                "matchers": matchers,
                "startsAt": _iso(starts_at),
                "endsAt": _iso(ends_at),
                "createdBy": created_by,
                "comment": comment,
            },
        )
        if not isinstance(data, dict) or not isinstance(data.get("silenceID"), str):
            raise AlertmanagerError(f"Alertmanager at {self.base_url} did not return a silence id.")
        return str(data["silenceID"])

    def expire_silence(self, silence_id: str) -> None:
        """Expire a silence now. Alertmanager answers 200 again for an already expired one."""
        self._call("DELETE", f"silence/{quote(silence_id, safe='')}")

    def get_silence(self, silence_id: str) -> dict[str, Any]:
        """One silence: ``{"id", "status": {"state": "active"|"pending"|"expired"}, "matchers", ...}``."""
        data = self._call("GET", f"silence/{quote(silence_id, safe='')}")
        if not isinstance(data, dict):
            raise AlertmanagerError(f"Alertmanager at {self.base_url} returned no silence {silence_id}.")
        return data

    def get_silences(self) -> list[dict[str, Any]]:
        data = self._call("GET", "silences")
        return data if isinstance(data, list) else []

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Push alerts as Prometheus would: ``[{"labels", "annotations", "startsAt", "endsAt", ...}]``."""
        self._call("POST", "alerts", json_body=alerts)
