"""Demo data: the operations manuals' four-level escalation path (primary on-call, secondary
on-call, engineering manager, CTO) a minute apart, as the default policy, so a new user watches
the unacknowledged demo Alertmanager incident climb the levels on the incident page."""

from __future__ import annotations

from django.contrib.auth.models import User

from incidents.oncall.models import ContactMethod
from incidents.registry import DemoContext, DemoResult, registry

from . import policies
from .models import EscalationPolicy

NAME = "Default (primary → secondary → manager → CTO)"
PEOPLE = [("primary", "Primary on-call"), ("secondary", "Secondary on-call"), ("eng-manager", "Engineering manager"),
          ("cto", "CTO")]
DELAY_SECONDS = 60


def seed(context: DemoContext) -> DemoResult:
    if EscalationPolicy.objects.filter(name=NAME).exists():
        return DemoResult("escalation policy exists")
    for username, title in PEOPLE:
        user, created = User.objects.get_or_create(username=username, defaults={
            "first_name": title, "email": f"{username}@example.com"})
        if created:
            user.set_unusable_password()
            user.save()
            ContactMethod.objects.create(user=user, kind="email", value=f"{username}@example.com")
    levels = [{"delay_seconds": 0 if i == 0 else DELAY_SECONDS, "targets": [{"type": "user", "value": username}]}
              for i, (username, _) in enumerate(PEOPLE)]
    policies.policy_save(data={"name": NAME, "repeat": 1, "is_default": True, "escalate_on_sla_breach": True,
                               "levels": levels})
    return DemoResult(f"a default escalation policy of {len(levels)} levels, {DELAY_SECONDS} s apart")


def register() -> None:
    # Before the integrations' seeders: the demo Alertmanager incident, unacknowledged, follows this
    # default policy and climbs its levels while you watch.
    registry.add_demo_seeder(seed, order=5)
