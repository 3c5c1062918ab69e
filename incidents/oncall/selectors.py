"""Reads a user may see. Every signed-in user reads every schedule (who is on call is not a
secret inside the team); contact methods are the user's own."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Prefetch, QuerySet

from .models import ContactMethod, Layer, LayerParticipant, Override, Schedule

Viewer = AbstractBaseUser | AnonymousUser


def schedule_list_for_user(*, user: Viewer) -> QuerySet[Schedule]:
    """Schedules with what resolving them reads, prefetched (one query per relation)."""
    return Schedule.objects.prefetch_related(
        Prefetch("layers__participants", queryset=LayerParticipant.objects.select_related("user")),
        Prefetch("overrides", queryset=Override.objects.select_related("user", "created_by")),
    )


def schedule_get_for_user(*, user: Viewer, pk: Any) -> Schedule:
    """Raises Schedule.DoesNotExist."""
    return schedule_list_for_user(user=user).get(pk=pk)


def layer_get_for_user(*, user: Viewer, schedule: Schedule, pk: Any) -> Layer:
    return Layer.objects.select_related("schedule").get(schedule=schedule, pk=pk)


def override_list_for_user(*, user: Viewer, schedule: Schedule) -> QuerySet[Override]:
    return Override.objects.filter(schedule=schedule).select_related("user", "created_by")


def contact_methods_for_user(*, user: User) -> QuerySet[ContactMethod]:
    return ContactMethod.objects.filter(user=user)
