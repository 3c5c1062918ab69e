"""Reads a user may see. Every signed-in user reads every schedule (who is on call is not a
secret inside the team); contact methods are the user's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Prefetch, Q, QuerySet

from .models import ContactMethod, Layer, LayerParticipant, Override, Schedule

Viewer = AbstractBaseUser | AnonymousUser


def schedule_list_for_user(*, user: Viewer, overrides_after: datetime | None = None) -> QuerySet[Schedule]:
    """Schedules with what resolving them reads, prefetched (one query per relation): layers and
    participants, and with ``overrides_after`` the overrides still running after it. Overrides
    over before it are history no page reads (a schedule keeps years of them), so none is loaded;
    without it none is prefetched and each read asks for its own window
    (``resolve.schedule_rows``)."""
    rows = Schedule.objects.prefetch_related(
        Prefetch("layers__participants", queryset=LayerParticipant.objects.select_related("user")))
    if overrides_after is None:
        return rows
    return rows.prefetch_related(Prefetch(  # index override_schedule_ends
        "overrides", queryset=Override.objects.filter(ends_at__gt=overrides_after).select_related("user", "created_by")))


def schedule_get_for_user(*, user: Viewer, pk: Any, overrides_after: datetime | None = None) -> Schedule:
    """Raises Schedule.DoesNotExist."""
    return schedule_list_for_user(user=user, overrides_after=overrides_after).get(pk=pk)


def schedules_of_person(*, user: Viewer, person: User, overrides_after: datetime) -> QuerySet[Schedule]:
    """The schedules ``person`` takes turns in, or covers after ``overrides_after``: their own page
    and calendar feed read these, not every schedule."""
    return schedule_list_for_user(user=user, overrides_after=overrides_after).filter(
        Q(pk__in=LayerParticipant.objects.filter(user=person).values("layer__schedule_id"))
        | Q(pk__in=Override.objects.filter(user=person, ends_at__gt=overrides_after).values("schedule_id"))
    )


def layer_get_for_user(*, user: Viewer, schedule: Schedule, pk: Any) -> Layer:
    return Layer.objects.select_related("schedule").get(schedule=schedule, pk=pk)


def override_list_for_user(*, user: Viewer, schedule: Schedule) -> QuerySet[Override]:
    return Override.objects.filter(schedule=schedule).select_related("user", "created_by")


def contact_methods_for_user(*, user: User) -> QuerySet[ContactMethod]:
    return ContactMethod.objects.filter(user=user)
