"""Shared fixtures: the personas, signed-in clients, and the default severities.

Settings for the run live in ``tests/settings.py`` (fast password hasher, plain static files, a
cache and Celery queue per xdist worker); nothing here changes settings.

Personas (users), as in the healthchecks tests: every test asks for the people it needs.
- ``responder``: an on-call engineer who works incidents (username "responder", password
  ``PASSWORD``, for the tests that type it into the login form).
- ``other_responder``: a second engineer (username "second"), for races and hand-overs.
- ``staff``: runs this installation (``is_staff``): integrations, maintenance windows.
- ``outsider``: has an account but may not use Opsportal (deactivated).
- ``admin_user`` / ``admin_client``: pytest-django's own superuser, for the Django admin.

Signed-in clients: ``login(user)`` returns a new ``django.test.Client`` signed in with
``force_login`` (no password check, no hashing); ``responder_client`` and ``staff_client`` are
``login(responder)`` and ``login(staff)``. API scripts authenticate with a Bearer token instead:
``api`` in ``tests/incidents/api/conftest.py``. Browser tests carry the same session into
chromium: ``signed_in_page`` in ``tests/browser/conftest.py``.

Severities: ``severities`` (P1-P4 by name), ``p1``, ``p3``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from incidents.models import Severity
from incidents.notifications import outbox
from opsportal.lib import fragments, memo
from tests.contracts.slack import slack_server  # noqa: F401 - the Slack contract server fixture, for every test
from tests.ops.redis_server import RedisServer, free_port

# Contract servers of the outside systems, as fixtures (one module each, so they merge apart).
pytest_plugins = ["tests.contracts.pagerduty_fixtures"]

PASSWORD = "correct-horse-9"

Login = Callable[[User], Client]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not settings.USING_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _fresh_config() -> Iterator[None]:
    """Each test starts without configuration a previous test's (rolled back) rows left in the
    process's config cache (opsportal/lib/memo.py), nor its fragments (opsportal/lib/fragments.py:
    SQLite hands a rolled-back test's ids out again), nor the conversations the outbox remembers
    handing to workers or seeing committed."""
    memo.forget_config()
    fragments.clear()
    outbox._swept.clear()
    outbox._enqueued_at.clear()
    outbox._conversation_ids.clear()
    yield
    memo.forget_config()


@pytest.fixture
def hooks_pool(settings) -> None:
    """Requests go through the hooks pool's short middleware list (bin/serve hooks)."""
    settings.MIDDLEWARE = settings.HOOKS_MIDDLEWARE


@pytest.fixture
def responder(db: None) -> User:
    """An on-call engineer who works incidents."""
    return User.objects.create_user("responder", "responder@example.com", PASSWORD)


@pytest.fixture
def other_responder(db: None) -> User:
    """A second engineer, for races (who acknowledged first) and hand-overs."""
    return User.objects.create_user("second", "second@example.com", PASSWORD)


@pytest.fixture
def staff(db: None) -> User:
    """Runs this installation: may change integrations and maintenance windows."""
    return User.objects.create_user("staff", "staff@example.com", PASSWORD, is_staff=True)


@pytest.fixture
def outsider(db: None) -> User:
    """Has an account but may not use Opsportal: it was deactivated."""
    return User.objects.create_user("outsider", "outsider@example.com", PASSWORD, is_active=False)


@pytest.fixture
def login(db: None) -> Login:
    """``login(user)``: a new client signed in as ``user`` (``force_login``: no password hashing)."""

    def sign_in(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def responder_client(login: Login, responder: User) -> Client:
    return login(responder)


@pytest.fixture
def staff_client(login: Login, staff: User) -> Client:
    return login(staff)


@pytest.fixture
def severities(django_db_setup: None, django_db_blocker: object, request: pytest.FixtureRequest) -> dict[str, Severity]:
    """The default P1-P4 by name. Transactional tests flush the tables, migrated data included,
    so they are recreated when missing."""
    from incidents.defaults import ensure_severities

    if "transactional_db" not in request.fixturenames and "live_server" not in request.fixturenames:
        request.getfixturevalue("db")
    ensure_severities()
    return {s.name: s for s in Severity.objects.all()}


@pytest.fixture
def p1(severities: dict[str, Severity]) -> Severity:
    return severities["P1"]


@pytest.fixture
def p3(severities: dict[str, Severity]) -> Severity:
    return severities["P3"]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A folder for the real processes a test starts (their logs, data, sockets): short, so a unix
    socket path in it stays under the operating system's limit."""
    folder = Path(tempfile.mkdtemp(prefix="opsp-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_redis(data_dir: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own on a free loopback port, which the test may stop and start."""
    server = RedisServer(data_dir / "own-redis", port=free_port()).start()
    yield server
    server.stop()
