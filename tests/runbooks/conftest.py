"""Runbook fixtures: a local HTTP target, the allow-listed test programs, and ``drive`` which runs
a run's queued step attempts in this process (what a worker does) until it waits or ends."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from incidents import lifecycle
from incidents.models import Incident, Severity, Source
from runbooks import runs
from runbooks.models import RunbookRun, StepRun, StepStatus

BIN = Path(__file__).resolve().parent / "bin"
ECHO_ARGS = str(BIN / "echo_args")
BIG_OUTPUT = str(BIN / "big_output")
SLOW_STEP = str(BIN / "slow_step")


class Target:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def _handler(target: Target) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            target.requests.append({"method": self.command, "path": self.path, "body": body,
                                    "headers": dict(self.headers)})
            if self.path.startswith("/hang"):
                time.sleep(30)
                return
            if self.path.startswith("/slow"):  # answers, after a while a person can watch
                time.sleep(2)
            if self.path.startswith("/big"):
                self.send_response(200)
                self.send_header("Content-Length", str(10 * 1024 * 1024))
                self.end_headers()
                chunk = b"y" * 65536
                try:
                    for _ in range(160):
                        self.wfile.write(chunk)
                except OSError:
                    pass
                return
            if self.path.startswith("/redirect-metadata"):
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
                return
            status = int(self.path.split("/status/")[1]) if "/status/" in self.path else 200
            data = json.dumps({"status": "OK", "path": self.path}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_HEAD = _answer  # noqa: N815

    return Handler


@pytest.fixture
def target(settings: Any) -> Iterator[Target]:
    """A local HTTP server; loopback allowed by OUTBOUND_ALLOW_NETWORKS as an operator would."""
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    server = Target()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def commands(settings: Any) -> None:
    settings.RUNBOOK_COMMANDS_ENABLED = True
    settings.RUNBOOK_COMMAND_ALLOWLIST = [ECHO_ARGS, BIG_OUTPUT, SLOW_STEP]


@pytest.fixture
def incident(p3: Severity) -> Incident:
    return lifecycle.incident_open(title="Database down", severity=p3, source=Source.WEB,
                                   labels={"alertname": "DatabaseDown", "service": "orders-db"})


def drive(run: RunbookRun, *, limit: int = 50) -> RunbookRun:
    """Run every queued attempt of ``run`` here, as a worker would, until none is left."""
    for _ in range(limit):
        step = StepRun.objects.filter(run=run, status=StepStatus.RUNNING).exclude(action="wait").first()
        if step is None or step.claimed_attempt >= step.attempts:
            break
        runs.step_execute(step.pk, step.attempts)
    return RunbookRun.objects.get(pk=run.pk)


def steps(run: RunbookRun) -> list[StepRun]:
    return list(StepRun.objects.filter(run=run).order_by("index"))
