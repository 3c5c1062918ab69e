"""The ``pagerduty_server`` fixture (loaded by tests/conftest.py): a PagerDuty Events API contract
server, with PAGERDUTY_EVENTS_URL and PAGERDUTY_CA_BUNDLE pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .pagerduty import PagerDutyContract

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"


@pytest.fixture
def pagerduty_server(tmp_path: Path, settings) -> Iterator[PagerDutyContract]:
    server = PagerDutyContract(tmp_path)
    settings.PAGERDUTY_EVENTS_URL = server.url
    settings.PAGERDUTY_CA_BUNDLE = str(server.ca_file)
    try:
        yield server
    finally:
        server.close()
