"""Reads of the outbox a user can see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet

from incidents.models import Incident

from .models import Delivery, Route

PANEL_ROWS = 50


def delivery_list_for_incident(*, user: AbstractBaseUser | AnonymousUser, incident: Incident) -> QuerySet[Delivery]:
    """Newest first; callers slice (the panel shows PANEL_ROWS)."""
    return Delivery.objects.filter(incident=incident).select_related("conversation").order_by("-created_at", "-id")


def delivery_counts_for_incident(*, user: AbstractBaseUser | AnonymousUser, incident: Incident) -> dict[str, int]:
    rows = Delivery.objects.filter(incident=incident).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def delivery_get_for_user(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> Delivery:
    """An incident's delivery; a direct message (a test page, no incident) is not one."""
    return Delivery.objects.select_related("incident").get(pk=pk, incident__isnull=False)


def route_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Route]:
    return Route.objects.select_related("service").prefetch_related("severities").order_by("channel", "id")
