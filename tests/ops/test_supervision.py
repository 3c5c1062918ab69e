"""`make run` supervises: a process that dies comes back and the others keep serving; Ctrl-C stops all
(docs/production.md). Runs the real target on a free port with its own data folder.

Before supervisord, honcho stopped web and scheduler too when the worker exited, and webhooks were refused.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings

from .processes import child_env, logs, wait_for
from .redis_server import free_port, redis_server_binary

PROGRAMS = ("redis", "web", "hooks", "worker", "scheduler")



def _supervisor(data_dir: Path) -> Any:
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, f"unix://{data_dir}/supervisor.sock")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def _states(data_dir: Path) -> dict[str, tuple[str, int]]:
    try:
        infos = _supervisor(data_dir).supervisor.getAllProcessInfo()
    except (OSError, xmlrpc.client.Error):
        return {}
    return {i["name"]: (i["statename"], i["pid"]) for i in infos}


def _health(base: str) -> dict[str, Any]:
    try:
        return dict(requests.get(f"{base}/health", timeout=5).json())
    except (requests.RequestException, ValueError):
        return {}


class WebhookSender(threading.Thread):
    """An Alertmanager posting the same group every 0.1 s; remembers every answer."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.answers: list[int | str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        labels = {"alertname": "WorkerKilled", "severity": "critical"}
        body = {"version": "4", "status": "firing", "receiver": "opsportal", "groupKey": '{}:{alertname="WorkerKilled"}',
                "groupLabels": {"alertname": "WorkerKilled"}, "commonLabels": labels, "commonAnnotations": {},
                "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0,
                "alerts": [{"status": "firing", "labels": labels, "annotations": {"summary": "test"},
                            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                            "generatorURL": "", "fingerprint": "0123456789abcdef"}]}
        with requests.Session() as session:
            while not self.stopping.is_set():
                try:
                    r = session.post(self.url, json=body, timeout=10,
                                     headers={"Authorization": f"Bearer {self.token}"})
                    self.answers.append(r.status_code)
                except requests.RequestException as exc:
                    self.answers.append(type(exc).__name__)
                self.stopping.wait(0.1)


def test_it_restarts_a_killed_worker_while_webhooks_keep_being_answered(data_dir):
    redis_server_binary()  # skips outside CI when there is no redis-server at all
    port, hooks_port = free_port(), free_port()
    base, hooks = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{hooks_port}"
    env = child_env(data_dir, SLA_TICK_SECONDS="1", HOOKS_PORT=str(hooks_port))
    out = open(data_dir / "make-run.log", "ab")  # noqa: SIM115 - closed below
    # Its own session: the process group is what a terminal's Ctrl-C signals.
    make = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=settings.BASE_DIR,
                            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: all(_states(data_dir).get(p, ("",))[0] == "RUNNING" for p in PROGRAMS),
                 "make run to start every process", data_dir, timeout=180)
        banner = (data_dir / "make-run.log").read_text()
        # The banner follows PORT (it said 8000 whatever PORT was).
        assert f"Opsportal: {base}\n" in banner and re.search(r"Login: +admin / \S+", banner)
        # Alertmanager is pointed at the hooks pool, whose threads no page render can take.
        assert f"Alertmanager webhook: {hooks}/hooks/alertmanager" in banner

        created = subprocess.run(
            [str(settings.BASE_DIR / ".venv/bin/python"), "manage.py", "create_integration", "alertmanager",
             "supervision-test"], cwd=settings.BASE_DIR, env={**env, "PORT": str(port)}, capture_output=True,
            text=True, check=True).stdout
        token = re.search(r"Token \(shown only this once\): (\S+)", created)
        assert token, created
        assert f"Receiver URL: {hooks}/hooks/alertmanager" in created
        wait_for(lambda: _health(base).get("status") == "healthy", "/health to be healthy", data_dir)
        assert _health(hooks).get("status") == "healthy"
        # The hooks pool serves machines only; a page asked of it says where pages are.
        page = requests.get(f"{hooks}/incidents/", timeout=10)
        assert page.status_code == 404 and f"{base}/incidents/" in page.json()["error"]["message"]

        sender = WebhookSender(f"{hooks}/hooks/alertmanager", token.group(1))
        sender.start()
        wait_for(lambda: len(sender.answers) >= 5, "the first webhooks", data_dir)
        before = _states(data_dir)
        os.kill(before["worker"][1], signal.SIGKILL)
        killed_at = time.monotonic()

        def worker_back() -> bool:
            state, pid = _states(data_dir).get("worker", ("", 0))
            return state == "RUNNING" and pid != before["worker"][1]

        wait_for(worker_back, "the worker to be restarted", data_dir, timeout=10)
        # ... and taking tasks again: a heartbeat newer than the kill.
        wait_for(lambda: _health(base).get("checks", {}).get("worker", {}).get("last_seen_seconds_ago", 1e9)
                 < time.monotonic() - killed_at, "a heartbeat from the new worker", data_dir)
        sender.stopping.set()
        sender.join()

        after = _states(data_dir)
        for program in ("redis", "web", "hooks", "scheduler"):
            assert after[program] == before[program], f"{program} was restarted too"
        assert sender.answers and all(a in (200, 202) for a in sender.answers), sender.answers
    finally:
        # Ctrl-C: SIGINT to the whole foreground process group.
        os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
            pytest.fail(f"Ctrl-C did not stop make run\n{logs(data_dir)}")
        out.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/health", timeout=5)
    leftover = subprocess.run(["pgrep", "-s", str(make.pid)], capture_output=True, text=True).stdout.split()
    assert not leftover, f"processes left running after Ctrl-C: {leftover}"
