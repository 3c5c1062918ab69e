"""Each process kind bounds its database statements (DB_STATEMENT_TIMEOUT_MS_*; docs/production.md), so
a stuck query cannot hold a request or a worker's shutdown."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHOW = ("from django.db import connection; c = connection.cursor(); c.execute('SHOW {}'); "
        "print(c.fetchone()[0])")


def _statement_timeout(**env: str) -> str:
    return _show("statement_timeout", **env)


def _show(parameter: str, **env: str) -> str:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", SHOW.format(parameter)], cwd=settings.BASE_DIR,
                         env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "OPSPORTAL_DATA_DIR": str(settings.DATA_DIR),
                              **env}, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_it_sets_the_statement_timeout_of_each_process_kind() -> None:
    assert _statement_timeout(OPSPORTAL_PROCESS="worker") == "1min"
    assert _statement_timeout(OPSPORTAL_PROCESS="web") == "30s"
    assert _statement_timeout(OPSPORTAL_PROCESS="worker", DB_STATEMENT_TIMEOUT_MS_WORKER="1500") == "1500ms"
    # Management commands (migrate) are not bounded.
    assert _statement_timeout() == "0"


def test_the_hooks_pool_connects_with_the_webhook_lock_timeout() -> None:
    """Its webhook posts then need no statement to set it (ALERTMANAGER_LOCK_TIMEOUT_SECONDS)."""
    assert _show("lock_timeout", OPSPORTAL_PROCESS="hooks") == "15s"
    assert _show("lock_timeout", OPSPORTAL_PROCESS="hooks", ALERTMANAGER_LOCK_TIMEOUT_SECONDS="2.5") == "2500ms"
    assert _show("statement_timeout", OPSPORTAL_PROCESS="hooks") == "30s"
    # Elsewhere the webhook sets it for its own transaction only.
    assert _show("lock_timeout", OPSPORTAL_PROCESS="web") == "0"
