"""Escalation fixtures: the recording channel of the outbox tests, and people with contact methods."""

from __future__ import annotations

from tests.notifications.conftest import recorder  # noqa: F401 - a channel that keeps what it is asked to send
