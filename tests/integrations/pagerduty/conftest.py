"""PagerDuty tests: the real channel (registered by the app) against the contract server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from django.utils import timezone

from incidents.notifications import outbox
from incidents.notifications.models import Conversation, Delivery
from tests.contracts.pagerduty import PagerDutyContract
from tests.contracts.pagerduty_fixtures import ROUTING_KEY

__all__ = ["ROUTING_KEY"]


@pytest.fixture
def pagerduty(pagerduty_server: PagerDutyContract, settings) -> PagerDutyContract:
    """PagerDuty configured with one routing key, aimed at the contract server."""
    settings.PAGERDUTY_ROUTING_KEY = ROUTING_KEY
    return pagerduty_server


FlushPD = Callable[..., int]


@pytest.fixture
def flush_pd() -> FlushPD:
    """Flush every PagerDuty conversation (as the worker would), at ``now``."""

    def flush(now: datetime | None = None) -> int:
        sent = 0
        for pk in Conversation.objects.filter(channel="pagerduty").values_list("pk", flat=True):
            sent += outbox.conversation_flush(pk, now=now or timezone.now())
        return sent

    return flush


def pd_deliveries() -> list[Delivery]:
    return list(Delivery.objects.filter(channel="pagerduty").order_by("created_at", "id"))
