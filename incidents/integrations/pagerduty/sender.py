"""The PagerDuty sender: one Events API v2 call per delivery, in order, through the ``pagerduty``
package's ``EventsApiV2Client`` (docs/pagerduty.md).

The outbox owns retrying (backoff with jitter, Retry-After, dead after N attempts), so the client
makes exactly one attempt per call: its own loop would otherwise sleep inside a worker, retry a 429
without limit and ignore Retry-After. A 400 means PagerDuty will never take the event: the delivery
is dead at once. A 429, a 5xx, a timeout or a refused connection is retried by the outbox.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections import OrderedDict
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pagerduty
from django.conf import settings
from django.utils import timezone

from incidents.models import EventKind, Source, TimelineEvent
from incidents.notifications.channels import Batch, Outcome, TransportError
from incidents.notifications.models import Delivery, Route
from opsportal.lib import memo

from . import events, keys

log = logging.getLogger(__name__)
CHANNEL = "pagerduty"
ERROR_TEXT_MAX = 500


class PagerDutySender:
    def configured(self) -> bool:
        if keys.named_keys():
            return True

        def routed() -> bool:
            targets = Route.objects.filter(channel=CHANNEL, enabled=True).values_list("target", flat=True)
            return any(keys.resolve(t) for t in targets)

        return memo.config("pagerduty.routed", routed)

    def default_targets(self) -> list[str]:
        """The reference "default", not the key: delivery rows and pages never hold it."""
        return [keys.DEFAULT] if settings.PAGERDUTY_ROUTING_KEY else []

    def announces(self, event: TimelineEvent) -> bool:
        """Nothing PagerDuty told us goes back to it; a severity change is a re-trigger only while
        the incident is open (after a resolve it would open a new PagerDuty alert)."""
        if event.source == Source.PAGERDUTY:
            return False
        return event.kind != EventKind.SEVERITY_CHANGED or event.incident.is_open

    def warm_up(self) -> None:
        """Make (and drop) a client: the first one of a process imports the HTTP transport, which
        cost a worker's first PagerDuty event about 0.2 s of CPU."""
        _new_client(settings.PAGERDUTY_ROUTING_KEY or "0" * 32).close()

    def send(self, batch: Batch) -> Outcome:
        target = batch.conversation.target
        routing_key = keys.resolve(target)
        if routing_key is None:
            raise TransportError(
                f'The target "{keys.masked(target)}" names no routing key: set PAGERDUTY_ROUTING_KEY, add the '
                "name to PAGERDUTY_ROUTING_KEYS, or give the route a 32-character integration key.",
                permanent=True,
            )
        dedup_key = batch.incident["key"]
        outcome = Outcome()
        state = dict(batch.conversation.state or {})
        client = client_for(routing_key)
        for delivery in batch.deliveries:
            action = events.ACTIONS.get(delivery.kind)
            if action is None:
                outcome.errors[delivery.pk] = TransportError(
                    f"PagerDuty does not announce {delivery.kind} events.", permanent=True)
                continue
            try:
                ref = _send_one(client, action, dedup_key, delivery, batch.incident)
            except TransportError as exc:
                outcome.errors[delivery.pk] = exc
                log.warning("pagerduty event not sent", extra={
                    "target": keys.masked(target), "action": action, "dedup_key": dedup_key,
                    "permanent": exc.permanent, "error": exc.message})
                if exc.permanent:
                    continue  # this event is refused for good; the next ones may still go
                break  # keep the order: nothing newer goes before this one is retried
            outcome.sent[delivery.pk] = ref
            state["alert"] = {"trigger": "triggered", "acknowledge": "acknowledged"}.get(action, "resolved")
            log.info("pagerduty event sent", extra={
                "target": keys.masked(target), "action": action, "dedup_key": dedup_key})
        if outcome.sent:
            outcome.conversation = {"external_ref": dedup_key, "state": state}
        return outcome


# Clients kept per thread (httpx clients are not shared between threads), by everything they are
# made from: a worker sending event after event reuses its TLS connection to PagerDuty instead of
# loading the CA bundle and shaking hands for every event.
_clients = threading.local()
CLIENTS_KEPT = 32


def client_for(routing_key: str) -> pagerduty.EventsApiV2Client:
    """A client aimed at PAGERDUTY_EVENTS_URL (https only: the package refuses anything else) that
    trusts PAGERDUTY_CA_BUNDLE when set, and makes one attempt per call; reused by this thread for
    the same key and settings."""
    key = (routing_key, settings.PAGERDUTY_EVENTS_URL, settings.PAGERDUTY_CA_BUNDLE, settings.PAGERDUTY_TIMEOUT_SECONDS)
    kept: OrderedDict[tuple[Any, ...], pagerduty.EventsApiV2Client] = _clients.__dict__.setdefault("kept", OrderedDict())
    client = kept.get(key)
    if client is not None:
        kept.move_to_end(key)
        return client
    client = _new_client(routing_key)
    kept[key] = client
    while len(kept) > CLIENTS_KEPT:
        kept.popitem(last=False)[1].close()
    return client


def _new_client(routing_key: str) -> pagerduty.EventsApiV2Client:
    options: dict[str, Any] = {}
    try:
        if settings.PAGERDUTY_CA_BUNDLE:
            options["verify"] = ssl.create_default_context(cafile=settings.PAGERDUTY_CA_BUNDLE)
        client = pagerduty.EventsApiV2Client(routing_key, base_url=settings.PAGERDUTY_EVENTS_URL, **options)
    except pagerduty.UrlError as exc:
        raise TransportError(f"PAGERDUTY_EVENTS_URL is not usable: {exc}", permanent=True) from None
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(f"PAGERDUTY_CA_BUNDLE could not be loaded: {exc}", permanent=True) from None
    client.timeout = settings.PAGERDUTY_TIMEOUT_SECONDS
    # One attempt. The package retries a status only while "retries so far > max_http_attempts" is
    # false, so -1 makes the first answer final, 429 included (a 429 missing from ``retry`` would be
    # retried without limit). A network error is final once attempts exceed max_network_attempts.
    client.retry = {429: 1}
    client.max_http_attempts = -1
    client.max_network_attempts = 0
    client.sleep_timer = 0.01
    return client


def _send_one(client: pagerduty.EventsApiV2Client, action: str, dedup_key: str, delivery: Delivery,
              incident: dict[str, Any]) -> str:
    properties: dict[str, Any] = {}
    if action == "trigger":
        properties = events.trigger_body(incident, delivery.payload.get("text", ""),
                                         at=delivery.created_at.isoformat())
    try:
        return str(client.send_event(action, dedup_key=dedup_key, **properties))
    except pagerduty.HttpError as exc:
        raise _http_error(exc) from None
    except pagerduty.Error as exc:  # no answer: refused connection, TLS failure, timeout
        cause = exc.__cause__
        detail = f"{type(cause).__name__}: {cause}" if cause else str(exc)
        raise TransportError(f"PagerDuty could not be reached: {detail}"[:ERROR_TEXT_MAX]) from None


def _http_error(exc: pagerduty.HttpError) -> TransportError:
    response = exc.response
    if response is None:
        return TransportError(f"PagerDuty could not be reached: {exc}"[:ERROR_TEXT_MAX])
    status = response.status_code
    detail = _detail(response)
    if status == 429:
        return TransportError(f"PagerDuty answered 429 (rate limited){detail}",
                              retry_after=retry_after(response.headers.get("Retry-After")))
    if 400 <= status < 500:
        return TransportError(f"PagerDuty refused the event ({status}){detail}", permanent=True)
    return TransportError(f"PagerDuty answered {status}{detail}")


def _detail(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return f": {text[:ERROR_TEXT_MAX]}" if text else ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get("message") or "")] + [str(e) for e in body.get("errors") or []]
    text = "; ".join(p for p in parts if p)
    return f": {text[:ERROR_TEXT_MAX]}" if text else ""


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - (now or timezone.now())).total_seconds(), 0.0)
