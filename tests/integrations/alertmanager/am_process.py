"""Run the real Alertmanager binary for a test (docs/alertmanager.md section 4), and build test data.

Shared by test_silences.py and test_e2e_alertmanager.py. Not a conftest: the tests import it.
Alertmanager listens on free loopback ports only (``--cluster.listen-address=`` switches the
gossip listener off, whose default is 0.0.0.0:9094), keeps its state in the test's tmp_path, and is
stopped when the test ends.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
import requests

T = TypeVar("T")
BINARY = Path("/usr/bin/prometheus-alertmanager")
READY_TIMEOUT = 20.0

NULL_CONFIG = """\
route:
  receiver: "null"
receivers:
  - name: "null"
"""


def require_binary() -> None:
    """Skip (or, with CI set, fail) when the Debian package prometheus-alertmanager is absent."""
    if BINARY.exists():
        return
    reason = f"{BINARY} is missing: install the Debian package prometheus-alertmanager"
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningAlertmanager:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path):
        self.url = url
        self.process = process
        self.log = log

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def run_alertmanager(
    workdir: Path, config: str = NULL_CONFIG, *, port: int | None = None
) -> Iterator[RunningAlertmanager]:
    """Start Alertmanager with ``config``, wait until /-/ready answers, stop it afterwards."""
    require_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(config)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "alertmanager.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BINARY),
                f"--config.file={workdir / 'alertmanager.yml'}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                f"--web.external-url={url}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    am = RunningAlertmanager(url, process, log)
    try:
        _wait_ready(am)
        yield am
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_ready(am: RunningAlertmanager) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if am.process.poll() is not None:
            pytest.fail(f"Alertmanager exited with {am.process.returncode}:\n{am.log_text()[-3000:]}")
        try:
            if requests.get(f"{am.url}/-/ready", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"Alertmanager was not ready within {READY_TIMEOUT:g} s:\n{am.log_text()[-3000:]}")


def wait_for(
    condition: Callable[[], T | None],
    *,
    timeout: float = 30.0,
    interval: float = 0.25,
    what: str = "condition",
) -> T:
    """Poll ``condition()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Gave up waiting for {what} after {timeout:g} s")
        time.sleep(interval)


def unique_suffix() -> str:
    return secrets.token_hex(3)
