"""Every write to schedules, layers, overrides, contact methods and calendar feeds. The pages, the
API and the admin call these, so a rule is checked in one place; a broken rule raises
ApplicationError naming the field (``extra["field"]`` for forms, ``extra["fields"]`` for the API).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max

from opsportal.lib.exceptions import ApplicationError

from .models import (
    DAY,
    WEEK,
    CalendarFeed,
    ContactMethod,
    Layer,
    LayerParticipant,
    Override,
    Schedule,
    new_token,
)

# A turn shorter than a minute pages nobody usefully and makes calendars of millions of shifts.
MIN_LENGTH_SECONDS = 60
MAX_LENGTH_SECONDS = 366 * DAY
MAX_LAYERS = 10
MAX_PARTICIPANTS = 100
# Handoffs and override times outside these years are typos (and would overflow date arithmetic).
YEARS = (1970, 2999)
MAX_OVERRIDE = timedelta(days=366)
LENGTHS = {Layer.Rotation.DAILY: DAY, Layer.Rotation.WEEKLY: WEEK}
SLACK_MEMBER_PREFIXES = ("U", "W")


def invalid(field_name: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid", extra={"field": field_name, "fields": {field_name: [message]}})


@dataclass
class LayerSpec:
    """A layer as a caller describes it: ``handoff`` is wall-clock time in the schedule's zone
    (an aware value is converted to it); participants are usernames in rotation order."""

    rotation: str
    handoff: datetime
    participants: Sequence[str] = field(default_factory=list)
    length_seconds: int | None = None
    name: str = ""


# --- validation -------------------------------------------------------------------------------


def zone_for(name: str, field_name: str = "time_zone") -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise invalid(field_name, "Give the time zone as an IANA name, e.g. Europe/London.")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(field_name, f'Unknown time zone "{name[:80]}". Use an IANA name, e.g. Europe/London.') from None


def length_for(rotation: str, length_seconds: int | None, prefix: str = "") -> int:
    if rotation not in Layer.Rotation.values:
        raise invalid(f"{prefix}rotation", f'Unknown rotation "{rotation}": use daily, weekly or custom.')
    if rotation != Layer.Rotation.CUSTOM:
        return LENGTHS[Layer.Rotation(rotation)]
    if length_seconds is None:
        raise invalid(f"{prefix}length_seconds", "A custom rotation needs length_seconds (the length of one turn).")
    if isinstance(length_seconds, bool) or not isinstance(length_seconds, int):
        raise invalid(f"{prefix}length_seconds", "length_seconds must be a whole number of seconds.")
    if not MIN_LENGTH_SECONDS <= length_seconds <= MAX_LENGTH_SECONDS:
        raise invalid(f"{prefix}length_seconds", f"length_seconds must be between {MIN_LENGTH_SECONDS} "
                                                 f"(a minute) and {MAX_LENGTH_SECONDS} (366 days), not {length_seconds}.")
    return length_seconds


def _in_years(value: datetime, field_name: str) -> None:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise invalid(field_name, f"{field_name} must be between the years {YEARS[0]} and {YEARS[1]}.")


def local_handoff(handoff: datetime, zone: ZoneInfo, prefix: str = "") -> datetime:
    """Wall-clock time in ``zone`` (seconds kept, microseconds dropped)."""
    if not isinstance(handoff, datetime):
        raise invalid(f"{prefix}handoff", "handoff must be a date and time, e.g. 2026-11-30T09:00:00.")
    _in_years(handoff, f"{prefix}handoff")
    if handoff.tzinfo is not None and handoff.utcoffset() is not None:
        handoff = handoff.astimezone(zone).replace(tzinfo=None)
    return handoff.replace(tzinfo=None, microsecond=0)


def users_for(usernames: Sequence[str], field_name: str, *, allow_empty: bool = False) -> list[User]:
    if not usernames and not allow_empty:
        raise invalid(field_name, "A rotation needs at least one participant.")
    if len(usernames) > MAX_PARTICIPANTS:
        raise invalid(field_name, f"At most {MAX_PARTICIPANTS} participants per layer.")
    found = {u.username: u for u in User.objects.filter(username__in=list(usernames))}
    users = []
    for name in usernames:
        user = found.get(name)
        if user is None:
            raise invalid(field_name, f'Unknown user "{str(name)[:150]}".')
        if not user.is_active:
            raise invalid(field_name, f'User "{name}" is deactivated.')
        users.append(user)
    return users


def _check_name(name: str, *, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise invalid("name", "A schedule needs a name.")
    if len(name) > 100:
        raise invalid("name", "The name is longer than 100 characters.")
    taken = Schedule.objects.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise invalid("name", f'A schedule named "{name}" exists already.')
    return name


# --- schedules --------------------------------------------------------------------------------


@transaction.atomic
def schedule_create(*, name: str, time_zone: str = "UTC", description: str = "",
                    layers: Sequence[LayerSpec] = ()) -> Schedule:
    """A schedule with its layers (the first listed is the bottom one: later layers win)."""
    zone = zone_for(time_zone)
    schedule = Schedule.objects.create(name=_check_name(name), time_zone=zone.key, description=description or "")
    _layers_replace(schedule, zone, layers)
    return schedule


@transaction.atomic
def schedule_update(*, schedule: Schedule, name: str | None = None, time_zone: str | None = None,
                    description: str | None = None, layers: Sequence[LayerSpec] | None = None) -> Schedule:
    """Change what is given; ``layers`` replaces every layer. Handoffs keep their wall-clock time
    when the zone changes."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    if name is not None:
        schedule.name = _check_name(name, exclude=schedule.pk)
    if time_zone is not None:
        schedule.time_zone = zone_for(time_zone).key
    if description is not None:
        schedule.description = description
    schedule.save()
    if layers is not None:
        schedule.layers.all().delete()
        _layers_replace(schedule, ZoneInfo(schedule.time_zone), layers)
    return schedule


def schedule_delete(*, schedule: Schedule) -> None:
    schedule.delete()


def schedule_ical_rotate(*, schedule: Schedule) -> Schedule:
    """A new feed URL: the old one stops working (it leaked, or someone left)."""
    schedule.ical_token = new_token()
    schedule.save(update_fields=["ical_token"])
    return schedule


def _layers_replace(schedule: Schedule, zone: ZoneInfo, layers: Sequence[LayerSpec]) -> None:
    if len(layers) > MAX_LAYERS:
        raise invalid("layers", f"At most {MAX_LAYERS} layers per schedule.")
    for index, spec in enumerate(layers):
        _layer_create(schedule, zone, spec, order=index, prefix=f"layers[{index}].")


def _layer_create(schedule: Schedule, zone: ZoneInfo, spec: LayerSpec, *, order: int, prefix: str = "") -> Layer:
    length = length_for(spec.rotation, spec.length_seconds, prefix)
    handoff = local_handoff(spec.handoff, zone, prefix)
    users = users_for(list(spec.participants), f"{prefix}participants")
    if len(spec.name or "") > 100:
        raise invalid(f"{prefix}name", "The layer name is longer than 100 characters.")
    layer = Layer.objects.create(
        schedule=schedule, name=(spec.name or "").strip(), order=order, rotation=spec.rotation,
        length_seconds=length, handoff_date=handoff.date(), handoff_time=handoff.time(),
    )
    LayerParticipant.objects.bulk_create(
        LayerParticipant(layer=layer, user=user, position=position) for position, user in enumerate(users)
    )
    return layer


# --- layers and participants (the schedule page edits one at a time) ---------------------------


@transaction.atomic
def layer_add(*, schedule: Schedule, spec: LayerSpec) -> Layer:
    """A new layer on top of the others."""
    locked = Schedule.objects.select_for_update().get(pk=schedule.pk)
    if locked.layers.count() >= MAX_LAYERS:
        raise invalid("layers", f"At most {MAX_LAYERS} layers per schedule.")
    top = locked.layers.aggregate(top=Max("order"))["top"]
    return _layer_create(locked, ZoneInfo(locked.time_zone), spec, order=0 if top is None else top + 1)


@transaction.atomic
def layer_update(*, layer: Layer, rotation: str, handoff: datetime, length_seconds: int | None = None,
                 name: str = "") -> Layer:
    layer = Layer.objects.select_for_update().select_related("schedule").get(pk=layer.pk)
    layer.length_seconds = length_for(rotation, length_seconds)
    local = local_handoff(handoff, ZoneInfo(layer.schedule.time_zone))
    layer.rotation, layer.handoff_date, layer.handoff_time = rotation, local.date(), local.time()
    if len(name or "") > 100:
        raise invalid("name", "The layer name is longer than 100 characters.")
    layer.name = (name or "").strip()
    layer.save()
    return layer


def layer_delete(*, layer: Layer) -> None:
    layer.delete()


@transaction.atomic
def participant_add(*, layer: Layer, username: str) -> LayerParticipant:
    """The user takes the last turn of the rotation."""
    locked = Layer.objects.select_for_update().get(pk=layer.pk)
    if locked.participants.count() >= MAX_PARTICIPANTS:
        raise invalid("participants", f"At most {MAX_PARTICIPANTS} participants per layer.")
    (user,) = users_for([username], "participants")
    last = locked.participants.aggregate(last=Max("position"))["last"]
    return LayerParticipant.objects.create(layer=locked, user=user, position=0 if last is None else last + 1)


@transaction.atomic
def participant_remove(*, participant: LayerParticipant) -> None:
    """Remove a turn; the turns after it move up (their weeks change: shown in the preview)."""
    layer = Layer.objects.select_for_update().get(pk=participant.layer_id)
    if layer.participants.count() <= 1 and participant.user_id is not None:
        raise invalid("participants", "A rotation needs at least one participant: delete the layer instead.")
    participant.delete()
    _renumber(layer)


@transaction.atomic
def participant_move(*, participant: LayerParticipant, offset: int) -> None:
    """Move a turn earlier (-1) or later (+1) in the rotation."""
    layer = Layer.objects.select_for_update().get(pk=participant.layer_id)
    turns = list(layer.participants.order_by("position", "id"))
    index = next(i for i, p in enumerate(turns) if p.pk == participant.pk)
    target = index + offset
    if not 0 <= target < len(turns):
        return
    turns[index], turns[target] = turns[target], turns[index]
    for position, turn in enumerate(turns):
        turn.position = position
    LayerParticipant.objects.bulk_update(turns, ["position"])


def _renumber(layer: Layer) -> None:
    turns = list(layer.participants.order_by("position", "id"))
    for position, turn in enumerate(turns):
        turn.position = position
    LayerParticipant.objects.bulk_update(turns, ["position"])


# --- overrides --------------------------------------------------------------------------------


def override_create(*, schedule: Schedule, username: str, starts_at: datetime, ends_at: datetime,
                    actor: Any = None) -> Override:
    """``username`` covers the schedule from ``starts_at`` to ``ends_at`` (aware times)."""
    (user,) = users_for([username], "user")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise invalid(name, f"{name} must be a date and time with a time zone (e.g. 2026-12-01T09:00:00Z).")
        _in_years(value, name)
    if ends_at <= starts_at:
        raise invalid("ends_at", "ends_at must be after starts_at.")
    if ends_at - starts_at > MAX_OVERRIDE:
        raise invalid("ends_at", "An override lasts at most 366 days.")
    return Override.objects.create(schedule=schedule, user=user, starts_at=starts_at, ends_at=ends_at,
                                   created_by=actor if isinstance(actor, User) else None)


def override_delete(*, override: Override) -> None:
    override.delete()


# --- contact methods and personal feeds ---------------------------------------------------------


def contact_value(kind: str, value: str) -> str:
    """The value a channel sends to, checked for its kind."""
    if kind not in ContactMethod.Kind.values:
        raise invalid("kind", f'Unknown kind "{str(kind)[:40]}": use slack, email or pagerduty.')
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        raise invalid("value", "Give the address, Slack member ID or PagerDuty integration key.")
    if kind == ContactMethod.Kind.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise invalid("value", f'"{value[:100]}" is not an email address.') from None
    elif kind == ContactMethod.Kind.SLACK:
        if not (value.startswith(SLACK_MEMBER_PREFIXES) and value.isalnum() and value.isupper() and 8 <= len(value) <= 20):
            raise invalid("value", "A Slack member ID looks like U0123ABCD (Slack: your profile, ⋮, Copy member ID).")
    elif not (len(value) == 32 and value.isascii() and value.isalnum()):
        raise invalid("value", "A PagerDuty integration key is 32 letters and digits (Events API v2).")
    return value


def contact_method_create(*, user: User, kind: str, value: str) -> ContactMethod:
    value = contact_value(kind, value)
    try:
        with transaction.atomic():
            return ContactMethod.objects.create(user=user, kind=kind, value=value)
    except IntegrityError:
        raise invalid("value", "You have this contact method already.") from None


def contact_method_delete(*, method: ContactMethod) -> None:
    method.delete()


def contact_method_verify(*, method: ContactMethod) -> ContactMethod:
    """The user confirms a test page reached them."""
    method.verified = True
    method.save(update_fields=["verified"])
    return method


def calendar_feed_for(*, user: User) -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


def calendar_feed_rotate(*, user: User) -> CalendarFeed:
    feed = calendar_feed_for(user=user)
    feed.token = new_token()
    feed.save(update_fields=["token"])
    return feed
