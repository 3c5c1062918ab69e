"""A small client for Alertmanager's HTTP API v2 (silences, and posting alerts in tests and demos).

It speaks through ``opsportal.lib.http`` and turns every failure into :class:`AlertmanagerError`
whose message says which Alertmanager failed and what it answered, ready to show an operator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import quote

from opsportal.lib import http


class Matcher(TypedDict):
    name: str
    value: str
    isRegex: bool
    isEqual: bool


class AlertmanagerError(Exception):
    """Alertmanager could not be reached or refused the request; ``message`` is for people."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


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
            if exc.status_code is None:
                raise AlertmanagerError(f"Alertmanager is unreachable: {exc.message}") from None
            said = f": {exc.body}" if exc.body else "."
            raise AlertmanagerError(
                f"Alertmanager at {self.base_url} answered {exc.status_code}{said}",
                status_code=exc.status_code,
            ) from None
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
        return data["silenceID"]

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
