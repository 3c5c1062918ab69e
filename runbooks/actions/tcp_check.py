"""``tcp_check``: is host:port accepting connections (a database, Redis)? The address passes the
same outbound policy as every URL (link-local and metadata always refused, loopback unless
OUTBOUND_ALLOW_NETWORKS allows it), checked after DNS; the connection goes to the vetted address."""

from __future__ import annotations

import re
import socket
import time
from typing import Any

from jinja2 import TemplateError

from opsportal.lib import outbound

from .base import (
    ParamError,
    ParamField,
    Result,
    RunContext,
    number,
    only_known,
    param_names,
    render,
    template,
    text,
)

NAME = "tcp_check"
LABEL = "TCP check"
AUTOMATED = True
FIELDS = (
    ParamField("host", "Host", required=True, help="name or address; labels as {{ labels.instance }}"),
    ParamField("port", "Port", kind="number", required=True),
    ParamField("timeout", "Connect timeout (s)", kind="number", help="empty: the step's timeout"),
)
HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]_]+$")


def validate(params: Any) -> dict[str, Any]:
    raw = only_known(params, param_names(FIELDS))
    host = text(raw, "host", required=True, max_length=255).strip()
    template(host, "host")
    if "{" not in host:
        if not HOST.match(host):
            raise ParamError("host", f"“{host}” is not a host name or address.")
        try:
            outbound.check_address(host.strip("[]"))
        except ValueError:
            pass  # a name: resolved and checked at run time
        except outbound.OutboundRefused as exc:
            if exc.rule == "always_refused":
                raise ParamError("host", f"host: {exc.message}") from None
    if raw.get("port") is None:
        raise ParamError("port", "port is required.")
    clean: dict[str, Any] = {"host": host, "port": number(raw, "port", minimum=1, maximum=65_535, integer=True)}
    timeout = number(raw, "timeout", minimum=0.1, maximum=3_600)
    if timeout is not None:
        clean["timeout"] = timeout
    return clean


def run(params: dict[str, Any], context: RunContext, *, timeout: float) -> Result:
    try:
        host = render(params["host"], context).strip().strip("[]")
    except TemplateError as exc:
        return Result(ok=False, output=f"The host does not render: {exc}")
    port = int(params["port"])
    started = time.monotonic()
    try:
        addresses = outbound.vetted_addresses(host, port)
    except outbound.OutboundRefused as exc:
        return Result(ok=False, output=f"{host}:{port} is refused by the outbound policy: {exc.message}")
    except OSError as exc:
        return Result(ok=False, output=f"{host} does not resolve: {exc}")
    errors = []
    for _family, address in addresses:
        try:
            with socket.create_connection((address, port), timeout=timeout):
                latency = (time.monotonic() - started) * 1000
                return Result(ok=True, output=f"{host}:{port} ({address}) accepts connections ({latency:.0f} ms).",
                              data={"address": address, "latency_ms": round(latency, 1)})
        except TimeoutError:
            errors.append(f"{address}: no answer within {timeout:g} s")
        except OSError as exc:
            errors.append(f"{address}: {exc.strerror or exc}")
    return Result(ok=False, output=f"{host}:{port} is not reachable: " + "; ".join(errors))
