"""CPU time by process while a phase runs, so a benchmark can print where a post's cost goes on the
cores that the app, its database and the load generator share (psutil)."""

from __future__ import annotations

import os
import time
from typing import Any

import psutil

# Processes found by name, whoever started them.
BY_NAME = {"postgres": "PostgreSQL", "redis-server": "Redis"}


class CpuMeter:
    """``with CpuMeter({"hooks": [pid], ...}) as meter: ...``, then ``meter.seconds``: CPU seconds
    (user + system) per role over the block. A role's processes are its pids and their children;
    PostgreSQL and Redis are every process of that name; "load generator" is this process, without
    its children (the processes under test, each measured in its own role). CPU of a
    process that exits during the block is not counted (the processes measured here live through it)."""

    def __init__(self, roles: dict[str, list[int]]):
        self.roles = {**roles, "load generator": [os.getpid()]}
        self.seconds: dict[str, float] = {}
        self._start: dict[tuple[str, int], float] = {}

    def __enter__(self) -> CpuMeter:
        self._start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        self.seconds = {}
        for (role, pid), seconds in end.items():
            self.seconds[role] = self.seconds.get(role, 0.0) + seconds - self._start.get((role, pid), 0.0)

    def per(self, n: int) -> dict[str, float]:
        """Milliseconds per unit of work (``n`` posts), by role."""
        return {role: seconds * 1000 / max(n, 1) for role, seconds in self.seconds.items()}

    def _sample(self) -> dict[tuple[str, int], float]:
        found: dict[tuple[str, int], float] = {}
        for name, pids in self.roles.items():
            for pid in pids:
                try:
                    root = psutil.Process(pid)
                    # This process's children are the processes under test, measured on their own.
                    children = root.children(recursive=True) if pid != os.getpid() else []
                    for process in [root, *children]:
                        found[(name, process.pid)] = _cpu(process)
                except psutil.Error:
                    continue
        for process in psutil.process_iter(["name"]):
            role: str | None = BY_NAME.get(process.info["name"] or "")
            if role is not None:
                try:
                    found[(role, process.pid)] = _cpu(process)
                except psutil.Error:
                    continue
        return found


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def breakdown(per: dict[str, Any]) -> str:
    """"hooks 5.20, PostgreSQL 2.10, ... = 9.80 ms", largest first."""
    parts = sorted(per.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{role} {ms:.2f}" for role, ms in parts) + f" = {sum(per.values()):.2f} ms"


def wait_idle(pids: list[int], *, below: float = 0.05, window: float = 0.5, timeout: float = 60.0) -> float:
    """Wait until the processes (and their children) use less than ``below`` of a core over
    ``window`` seconds: a worker still importing the app at start would otherwise spend its CPU
    inside the first measured phase. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with CpuMeter({str(pid): [pid] for pid in pids}) as meter:
            time.sleep(window)
        busy = sum(seconds for role, seconds in meter.seconds.items() if role not in (*BY_NAME.values(), "load generator"))
        if busy < below * window:
            break
    return time.monotonic() - started
