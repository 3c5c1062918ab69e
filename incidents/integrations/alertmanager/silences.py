"""Alertmanager silences created from an incident page: create, expire, refresh.

Each service calls Alertmanager first and writes to the database only after Alertmanager said yes,
in one transaction with the incident's timeline event; so the page never shows a silence that
Alertmanager does not have. Every failure is an ``ApplicationError`` whose message says what to
fix (no Alertmanager URL configured, Alertmanager unreachable or refused by the outbound policy,
the status Alertmanager answered; never the body of its answer, docs/security.md).

Each of them makes the server send a request to the integration's URL, so each needs the
``alertmanager.manage_silences`` permission (staff and superusers have it; the "Responders" group
grants it), not just a login: :class:`SilencePermissionError` (403) otherwise. An ``actor`` of None
is Opsportal itself (a task or a runbook step), never a web request.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.db import transaction
from django.utils import timezone

from incidents.lifecycle import record_event
from incidents.models import EventKind, Incident, Source
from opsportal.lib.actors import Actor, stored_user
from opsportal.lib.durations import format_duration
from opsportal.lib.exceptions import ApplicationError, ConflictError

from .client import AlertmanagerClient, AlertmanagerError, Matcher
from .models import Integration, Silence

logger = logging.getLogger(__name__)

SILENCE_PERMISSION = "alertmanager.manage_silences"
RESPONDERS_GROUP = "Responders"  # created with the permission by migration 0003


MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=90)
COMMENT_MAX = 1000


class SilencePermissionError(ApplicationError):
    """The user may read the incident but not create or expire silences."""

    status_code = 403
    code = "permission_denied"


def can_manage_silences(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Whether ``user`` may create, expire and refresh silences: active staff, superusers, and
    holders of ``alertmanager.manage_silences`` (directly or through a group such as Responders)."""
    if user is None or not user.is_authenticated or not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_staff", False):
        return True  # without loading every permission of the user (two queries)
    return isinstance(user, PermissionsMixin) and user.has_perm(SILENCE_PERMISSION)


def _require_permission(actor: Actor) -> None:
    if actor is not None and not can_manage_silences(actor):
        raise SilencePermissionError(
            "You may not create or expire Alertmanager silences: that needs the “Can create and "
            f"expire Alertmanager silences” permission (the “{RESPONDERS_GROUP}” group has it). "
            "Ask a staff member.",
        )


def silence_matchers(*, incident: Incident) -> tuple[Integration, list[Matcher]]:
    """The incident's integration and equality matchers for the labels every one of its alerts shares.

    A silence on the shared labels covers exactly this incident's alert group and nothing wider.
    Raises ApplicationError when the incident has no alerts or they share no label.
    """
    alerts = list(incident.alerts.select_related("integration").order_by("pk"))
    if not alerts:
        raise ApplicationError(
            f"Incident #{incident.pk} has no Alertmanager alerts, so there is nothing to silence.",
            code="no_alerts",
        )
    integrations = {alert.integration_id: alert.integration for alert in alerts}
    if len(integrations) > 1:
        names = ", ".join(sorted(i.name for i in integrations.values()))
        raise ApplicationError(
            f"Incident #{incident.pk} has alerts from several integrations ({names}); "
            "silence them in Alertmanager.",
            code="several_integrations",
        )
    common = dict(alerts[0].labels)
    for alert in alerts[1:]:
        common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
    if not common:
        raise ApplicationError(
            f"The alerts of incident #{incident.pk} share no label, so no silence can match only them.",
            code="no_common_labels",
        )
    matchers: list[Matcher] = [
        {"name": name, "value": common[name], "isRegex": False, "isEqual": True} for name in sorted(common)
    ]
    return alerts[0].integration, matchers


def _client(integration: Integration) -> AlertmanagerClient:
    if not integration.alertmanager_url:
        raise ApplicationError(
            f"Integration “{integration.name}” has no Alertmanager API URL; "
            "a staff member can set it on the integration's page to create silences from Opsportal.",
            code="no_alertmanager_url",
        )
    return AlertmanagerClient(integration.alertmanager_url)


def _upstream_error(exc: AlertmanagerError, *, hint: str = "") -> ApplicationError:
    """The client's message (status, timeout, refusal; never the answer's body) as a domain error."""
    return ApplicationError(
        exc.message + hint, code="alertmanager_error", extra={"upstream_status": exc.status_code}
    )


def _actor_name(actor: Actor) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return f"{actor.get_username()} via Opsportal"
    return "Opsportal"


def silence_create(
    *,
    incident: Incident,
    duration: timedelta,
    comment: str,
    actor: Actor,
    source: str = Source.WEB,
) -> Silence:
    """Silence the incident's alerts in Alertmanager for ``duration``; store the silence and a
    timeline event once Alertmanager has accepted it.

    Raises SilencePermissionError (403) when ``actor`` lacks the permission; ApplicationError for a
    missing comment, a duration outside 1 minute–90 days, an incident without alerts or shared
    labels, an integration without Alertmanager URL, or when Alertmanager is unreachable, refused
    by the outbound policy, or answers an error (its status is in the message).
    """
    _require_permission(actor)
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(
            "A comment is required: say why the alerts are silenced.",
            code="invalid",
            extra={"field": "comment"},
        )
    if len(comment) > COMMENT_MAX:
        raise ApplicationError(
            f"The comment is {len(comment)} characters; the limit is {COMMENT_MAX}.",
            code="invalid",
            extra={"field": "comment"},
        )
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise ApplicationError(
            "A silence lasts between 1 minute and 90 days.", code="invalid", extra={"field": "duration"}
        )
    integration, matchers = silence_matchers(incident=incident)
    client = _client(integration)
    starts_at = timezone.now()
    ends_at = starts_at + duration
    try:
        silence_id = client.create_silence(
            matchers=matchers,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=_actor_name(actor),
            comment=f"{comment} (Opsportal incident #{incident.pk})",
        )
    except AlertmanagerError as exc:
        hint = ""
        if exc.status_code == 400:  # our own data, so the person can spot e.g. a label Alertmanager refuses
            hint = " The silence matched " + ", ".join(f'{m["name"]}="{m["value"]}"' for m in matchers) + "."
        raise _upstream_error(exc, hint=hint) from None
    try:
        with transaction.atomic():
            silence = Silence.objects.create(
                incident=incident,
                integration=integration,
                silence_id=silence_id,
                matchers=matchers,
                starts_at=starts_at,
                ends_at=ends_at,
                comment=comment,
                created_by=stored_user(actor),
            )
            shown = ", ".join(f'{m["name"]}="{m["value"]}"' for m in matchers)
            record_event(
                incident,
                EventKind.SILENCE,
                actor=stored_user(actor),
                source=source,
                message=f"Silenced in Alertmanager for {format_duration(duration)} ({shown}): {comment}",
                data={
                    "silence_id": silence_id,
                    "action": "created",
                    "ends_at": ends_at.isoformat(),
                    "matchers": matchers,
                },
            )
    except Exception:
        # Alertmanager has a silence we failed to record: take it back rather than leave it unseen.
        try:
            client.expire_silence(silence_id)
        except AlertmanagerError:
            logger.exception("could not expire unrecorded silence %s", silence_id)
        raise
    return silence


def _mark_expired(silence: Silence, *, actor: Actor, source: str, message: str) -> Silence:
    """Store the expiry once (row lock), with its timeline event."""
    with transaction.atomic():
        locked = Silence.objects.select_for_update().get(pk=silence.pk)
        if locked.state == Silence.State.EXPIRED:
            return locked
        now = timezone.now()
        locked.state = Silence.State.EXPIRED
        locked.expired_at = now
        locked.ends_at = min(locked.ends_at, now)
        locked.save(update_fields=["state", "expired_at", "ends_at"])
        record_event(
            locked.incident,
            EventKind.SILENCE,
            actor=stored_user(actor),
            source=source,
            message=message,
            data={"silence_id": locked.silence_id, "action": "expired"},
        )
    return locked


def silence_expire(*, silence: Silence, actor: Actor, source: str = Source.WEB) -> Silence:
    """Expire the silence in Alertmanager now, then record it.

    A silence Alertmanager no longer knows (e.g. its storage was wiped) is recorded as expired too.
    Raises SilencePermissionError (403) without the permission, ConflictError when it is already
    expired, ApplicationError when Alertmanager cannot be reached or refuses.
    """
    _require_permission(actor)
    if silence_is_expired(silence):
        raise ConflictError("This silence has already expired.", code="already_expired")
    integration = silence.integration
    try:
        _client(integration).expire_silence(silence.silence_id)
    except AlertmanagerError as exc:
        if not exc.not_found:
            raise _upstream_error(exc) from None
        return _mark_expired(
            silence,
            actor=actor,
            source=source,
            message=f"Silence {silence.silence_id} is gone from Alertmanager; recorded as expired.",
        )
    return _mark_expired(
        silence, actor=actor, source=source, message=f"Expired silence {silence.silence_id}."
    )


def silence_refresh(*, silence: Silence, actor: Actor) -> Silence:
    """Read the silence's state from Alertmanager (someone may have expired or edited it there).

    Updates ``ends_at`` and marks it expired when Alertmanager says so. It sends a request to the
    integration's URL, so it needs the permission as creating does (SilencePermissionError, 403).
    Raises ApplicationError when Alertmanager cannot be asked.
    """
    _require_permission(actor)
    if silence.state == Silence.State.EXPIRED:
        return silence
    try:
        data = _client(silence.integration).get_silence(silence.silence_id)
    except AlertmanagerError as exc:
        if exc.status_code == 404:
            return _mark_expired(
                silence,
                actor=None,
                source=Source.ALERTMANAGER,
                message=f"Silence {silence.silence_id} is gone from Alertmanager.",
            )
        raise _upstream_error(exc) from None
    state = (data.get("status") or {}).get("state")
    if state == "expired":
        return _mark_expired(
            silence,
            actor=None,
            source=Source.ALERTMANAGER,
            message=f"Silence {silence.silence_id} expired in Alertmanager.",
        )
    ends_at = _parse_time(data.get("endsAt"))
    if ends_at is not None and ends_at != silence.ends_at:  # extended or shortened in Alertmanager
        Silence.objects.filter(pk=silence.pk).update(ends_at=ends_at)
        silence.ends_at = ends_at
    return silence


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def silence_is_expired(silence: Silence) -> bool:
    """What the page shows: expired when recorded so, or when its end time has passed."""
    return silence.state == Silence.State.EXPIRED or silence.ends_at <= timezone.now()
