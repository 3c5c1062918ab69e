"""Slack's and PagerDuty's contract servers for bench/notifications.py: the Slack one stamping when
each chat call arrived, both run in a process of their own and reached through a pipe."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.contracts.pagerduty import PagerDutyContract
from tests.contracts.slack import SlackContractServer

GROUP_RE = re.compile(r"(Lat\d{3}|Storm\d{2})")


# --- the Slack contract server, stamping arrivals ----------------------------------------------


class TimedSlack(SlackContractServer):
    """The contract server, plus one record per chat call: (arrival, method, channel, root ts, group)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[float, str, str, str, str]] = []
        self._arrival = threading.local()

    def handle(self, method: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        self._arrival.at = time.time()
        return super().handle(method, headers, raw)

    def _note(self, method: str, channel: str, root: str, args: dict[str, Any]) -> None:
        found = GROUP_RE.search(json.dumps(args))
        self.log.append((self._arrival.at, method, channel, root, found.group(1) if found else ""))

    def api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        result = super().api_chat_postMessage(args)
        self._note("root" if not args.get("thread_ts") else "reply", result["channel"],
                   str(args.get("thread_ts") or result["ts"]), args)
        return result

    def api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        result = super().api_chat_update(args)
        self._note("update", result["channel"], str(args["ts"]), args)
        return result

    def other_calls(self) -> Counter[str]:
        return Counter(name for name, _ in self.state.calls if not name.startswith("chat."))


# --- the contract servers in a process of their own ---------------------------------------------


class ContractProcess:
    """Slack's and PagerDuty's contract servers in a process of their own. In the bench's process
    they would share its interpreter lock with the threads that post the webhooks, so each Slack or
    PagerDuty call the worker made would slow the load generator and count against the app. The real
    services run on other machines: here they run at the lowest CPU priority (nice 19), so they
    take only what the app leaves (and still answer promptly on an idle machine)."""

    def __init__(self, data: Path) -> None:
        """``data``: the folder for PagerDuty's CA certificate (the workers are pointed at it)."""
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_contracts, args=(child, str(data)), daemon=True)
        self._process.start()
        slack_url, slack_token, pd_url, pd_ca = self._conn.recv()
        self.slack = RemoteSlack(self, slack_url, slack_token)
        self.pagerduty = RemotePagerDuty(self, pd_url, Path(pd_ca))
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def call(self, target: str, path: str, *args: Any) -> Any:
        with self._lock:
            self._conn.send((target, path, args))
            ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"contract server {target}.{path}: {value}")
        return value

    def close(self) -> None:
        self.call("", "stop")
        self._process.join(10)


def _serve_contracts(conn: Any, data: str) -> None:
    # Slack and PagerDuty run on other machines: their stand-ins take only the CPU the app leaves.
    os.nice(19)
    slack = TimedSlack()
    slack.start()
    pagerduty = PagerDutyContract(Path(data))
    conn.send((slack.api_url, slack.token, pagerduty.url, str(pagerduty.ca_file)))
    targets = {"slack": slack, "pagerduty": pagerduty}
    while True:
        target, path, args = conn.recv()
        if path == "stop":
            slack.stop()
            pagerduty.close()
            conn.send((True, None))
            return
        try:
            value: Any = targets[target]
            for name in path.split("."):
                value = getattr(value, name)
            conn.send((True, value(*args) if callable(value) else value))
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            conn.send((False, repr(exc)))


class _RemoteList:
    """A list attribute of a contract server: iterated as a snapshot, cleared in place."""

    def __init__(self, contracts: ContractProcess, target: str, name: str):
        self._contracts, self._target, self._name = contracts, target, name

    def __iter__(self) -> Iterator[Any]:
        return iter(self._contracts.call(self._target, self._name))

    def clear(self) -> None:
        self._contracts.call(self._target, f"{self._name}.clear")


class RemoteSlack:
    def __init__(self, contracts: ContractProcess, api_url: str, token: str):
        self._contracts, self.api_url, self.token = contracts, api_url, token
        self.log = _RemoteList(contracts, "slack", "log")

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        return self._contracts.call("slack", "channel_by_name", name)  # type: ignore[no-any-return]

    def add_channel(self, name: str) -> str:
        return str(self._contracts.call("slack", "add_channel", name))

    def other_calls(self) -> Counter[str]:
        return Counter(self._contracts.call("slack", "other_calls"))


class RemotePagerDuty:
    def __init__(self, contracts: ContractProcess, url: str, ca_file: Path):
        self.url, self.ca_file = url, ca_file
        self.accepted = _RemoteList(contracts, "pagerduty", "accepted")
