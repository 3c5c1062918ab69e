"""Demo data for `make run`: the weekly primary/secondary rotation of the operations manuals our
users run, with four demo engineers, so a new user sees who is on call."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from incidents.registry import DemoContext, DemoResult, registry

from . import services
from .models import Schedule

PEOPLE = ("alice", "bob", "carol", "dave")
ZONE = "Europe/London"


def seed_demo(ctx: DemoContext) -> DemoResult:
    for name in PEOPLE:
        # No usable password: these are people to page, signing in is for the admin account.
        user, created = User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            services.contact_method_create(user=user, kind="email", value=f"{name}@example.com")
    zone = ZoneInfo(ZONE)
    today = ctx.now.astimezone(zone).date()
    # Handoff on Monday 09:00, the Monday of this week: someone is on call from the first minute.
    monday = datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time()).replace(hour=9)
    if ctx.now.astimezone(zone).replace(tzinfo=None) < monday:
        monday -= timedelta(days=7)
    for name, order in (("Primary on-call", PEOPLE), ("Secondary on-call", PEOPLE[1:] + PEOPLE[:1])):
        if not Schedule.objects.filter(name=name).exists():
            services.schedule_create(name=name, time_zone=ZONE, description="Weekly rotation, handoff Monday 09:00.",
                                     layers=[services.LayerSpec("weekly", monday, list(order))])
    return DemoResult(summary="primary and secondary on-call schedules (alice, bob, carol, dave)")


def register() -> None:
    registry.add_demo_seeder(seed_demo, order=20)
