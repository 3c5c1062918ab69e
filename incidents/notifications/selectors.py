"""Reads of the outbox a user can see."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, CharField, Count, Max, QuerySet, Sum, When
from django.db.models.fields.json import KeyTextTransform

from incidents.models import Incident

from .models import Delivery, Route

AnyUser = AbstractBaseUser | AnonymousUser
STATUSES = tuple(Delivery.Status.values)


def delivery_list_for_incident(*, user: AnyUser, incident: Incident) -> QuerySet[Delivery]:
    """Newest first; callers slice (the API returns 200)."""
    return Delivery.objects.filter(incident=incident).select_related("conversation").order_by("-created_at", "-id")


@dataclass(frozen=True)
class DeliveryCounts:
    """An incident's deliveries by status, and a version token that changes with every write the
    outbox makes to one of them: a new delivery raises ``latest_id``, every send attempt raises
    ``attempts``, and "Retry now" moves a delivery to another status."""

    by_status: dict[str, int]
    attempts: int
    latest_id: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def version(self) -> str:
        counts = ".".join(str(self.by_status.get(status, 0)) for status in STATUSES)
        return f"{counts}.{self.attempts}.{self.latest_id}"


def delivery_counts_for_incident(*, user: AnyUser, incident: Incident | int) -> DeliveryCounts:
    """One query grouped by status over the incident's deliveries (index ``delivery_incident``):
    the panel's counts and the version its poll compares. Takes an incident id too, so the poll
    can answer before loading the incident."""
    rows = list(Delivery.objects.filter(incident=incident).order_by().values_list("status")
                .annotate(n=Count("id"), attempts=Sum("attempts"), latest=Max("id")))
    return DeliveryCounts(by_status={status: n for status, n, _, _ in rows},
                          attempts=sum(attempts for _, _, attempts, _ in rows),
                          latest_id=max((latest for _, _, _, latest in rows), default=0))


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    matching: int  # deliveries in the status filter, over every page
    number: int  # 1-based, clamped to the last page
    pages: int


def delivery_page_for_incident(
    *, user: AnyUser, incident: Incident, counts: DeliveryCounts, status: str = "", page: int = 1,
    per_page: int = 10,
) -> DeliveryPage:
    """One page of the incident's deliveries, newest first, optionally of one status. The stored
    message (``payload``, which can be a whole email) is not read: each row gets ``preview_text``,
    the message text of a not-configured channel's delivery (shown open, as it would be posted) and
    None for the others (their message is fetched when a user opens it, ``delivery_get_for_user``)."""
    qs = Delivery.objects.filter(incident=incident)
    if status:
        qs = qs.filter(status=status)
    matching = counts.by_status.get(status, 0) if status else counts.total
    pages = max(1, -(-matching // per_page))
    number = min(max(page, 1), pages)
    offset = (number - 1) * per_page
    rows = (
        qs.select_related("conversation")
        .defer("payload", "conversation__state")
        .annotate(preview_text=Case(When(status=Delivery.Status.PREVIEW, then=KeyTextTransform("text", "payload")),
                                    output_field=CharField()))
        .order_by("-created_at", "-id")[offset:offset + per_page]
    )
    return DeliveryPage(deliveries=list(rows), matching=matching, number=number, pages=pages)


def delivery_get_for_user(*, user: AnyUser, pk: int) -> Delivery:
    """An incident's delivery; a direct message (a test page, no incident) is not one."""
    return Delivery.objects.select_related("incident").get(pk=pk, incident__isnull=False)


def route_list_for_user(*, user: AnyUser) -> QuerySet[Route]:
    return Route.objects.select_related("service").prefetch_related("severities").order_by("channel", "id")
