"""``command``: run an allow-listed program. Off unless RUNBOOK_COMMANDS_ENABLED; ``argv[0]`` must be
one of RUNBOOK_COMMAND_ALLOWLIST (absolute paths); every other item is a template rendered over the
incident's labels into exactly one argument. Never a shell, so ``; rm -rf /`` or ``$(...)`` in a
label reaches the program as the literal text it is. A clean environment (PATH, LANG and the
secrets named in ``secret_env``), stdin closed, output bounded, killed at the timeout."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from typing import Any

from django.conf import settings
from jinja2 import TemplateError

from .base import (
    ParamError,
    ParamField,
    Result,
    RunContext,
    only_known,
    param_names,
    redact,
    render,
    secret,
    secret_refs,
    template,
)

NAME = "command"
LABEL = "Command"
AUTOMATED = True
FIELDS = (
    ParamField("argv", "Program and arguments", kind="argv", required=True,
               choices_setting="RUNBOOK_COMMAND_ALLOWLIST",
               help="a program of RUNBOOK_COMMAND_ALLOWLIST, then one argument a line; labels as {{ labels.service }}"),
    ParamField("secret_env", "Secret environment", kind="mapping", help="VARIABLE=SECRET_NAME, one a line"),
)
ARGV_MAX = 100


def validate(params: Any) -> dict[str, Any]:
    raw = only_known(params, param_names(FIELDS))
    argv = raw.get("argv")
    if not isinstance(argv, list) or not argv:
        raise ParamError("argv", "argv must be a list: the program, then its arguments.")
    if len(argv) > ARGV_MAX:
        raise ParamError("argv", f"argv has more than {ARGV_MAX} items.")
    for i, item in enumerate(argv):
        if not isinstance(item, str) or len(item) > 4_000:
            raise ParamError(f"argv[{i}]", f"argv[{i}] must be text of at most 4000 characters.")
        if "\x00" in item:
            raise ParamError(f"argv[{i}]", f"argv[{i}] contains a NUL character.")
        template(item, f"argv[{i}]")
    if not settings.RUNBOOK_COMMANDS_ENABLED:
        raise ParamError("argv", "Commands are turned off on this installation (RUNBOOK_COMMANDS_ENABLED).")
    if argv[0] not in settings.RUNBOOK_COMMAND_ALLOWLIST:
        raise ParamError("argv[0]", f"“{argv[0]}” is not an allowed command (RUNBOOK_COMMAND_ALLOWLIST lists "
                                    "the programs runbooks may run, by absolute path).")
    clean: dict[str, Any] = {"argv": list(argv)}
    refs = secret_refs(raw, "secret_env")
    if refs:
        clean["secret_env"] = refs
    return clean


def run(params: dict[str, Any], context: RunContext, *, timeout: float) -> Result:
    argv: list[str] = params["argv"]
    if not settings.RUNBOOK_COMMANDS_ENABLED:
        return Result(ok=False, output="Commands are turned off on this installation (RUNBOOK_COMMANDS_ENABLED).")
    if argv[0] not in settings.RUNBOOK_COMMAND_ALLOWLIST:
        return Result(ok=False, output=f"“{argv[0]}” is no longer an allowed command (RUNBOOK_COMMAND_ALLOWLIST).")
    try:
        args = [argv[0], *(render(item, context) for item in argv[1:])]
    except TemplateError as exc:
        return Result(ok=False, output=f"An argument does not render: {exc}")
    refs: dict[str, str] = params.get("secret_env") or {}
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", **{k: secret(v) for k, v in refs.items()}}
    limit = settings.RUNBOOK_OUTPUT_MAX_BYTES
    started = time.monotonic()
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env, shell=False, close_fds=True, start_new_session=True)
    except OSError as exc:
        return Result(ok=False, output=f"Could not start {argv[0]}: {exc.strerror or exc}")
    kept, total, timed_out = _drain(proc, limit=limit, deadline=started + timeout)
    if timed_out:
        _kill(proc)
    code = proc.wait()
    seconds = time.monotonic() - started
    output = redact(kept.decode("utf-8", errors="replace"), refs)
    if total > len(kept):
        output += f"\n… [output truncated: {total - len(kept)} more bytes not kept]"
    data = {"exit_code": code, "seconds": round(seconds, 3), "output_bytes": total}
    if timed_out:
        return Result(ok=False, output=f"Killed after {timeout:g} s (the step's timeout).\n{output}", data=data)
    summary = f"{os.path.basename(argv[0])} exited with {code} in {seconds:.1f} s."
    return Result(ok=code == 0, output=f"{summary}\n{output}" if output else summary, data=data)


def _drain(proc: subprocess.Popen[bytes], *, limit: int, deadline: float) -> tuple[bytes, int, bool]:
    """Read the output until the program closes it or the deadline passes; keep ``limit`` bytes,
    count the rest (a program printing gigabytes costs no memory)."""
    assert proc.stdout is not None
    kept = bytearray()
    total = 0
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(kept), total, True
            if not sel.select(timeout=min(remaining, 1.0)):
                continue
            chunk = os.read(proc.stdout.fileno(), 65_536)
            if not chunk:
                return bytes(kept), total, False
            total += len(chunk)
            if len(kept) < limit:
                kept += chunk[: limit - len(kept)]


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """The program and everything it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
