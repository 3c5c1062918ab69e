"""The outbound-URL guard, through opsportal.lib.http against real local HTTP servers.

Each server counts the requests it received, so "refused" means the server was never asked, not
that an error came back after the request went out.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from opsportal.lib import http, outbound


class Server(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], redirect_to: str = ""):
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        self.redirect_to = redirect_to
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        if self.path == "/redirect" and self.server.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(host: str = "127.0.0.1", redirect_to: str = "") -> Server:
        srv = Server((host, 0), redirect_to=redirect_to)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def refused(url: str, **kwargs: Any) -> http.HttpError:
    with pytest.raises(http.HttpError) as raised:
        http.request("GET", url, timeout=2, **kwargs)
    assert raised.value.refused_rule, raised.value.message
    return raised.value


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[fe80::1]/",
    ],
)
def test_it_never_requests_the_metadata_address_even_when_everything_is_allowed(settings, url: str) -> None:
    settings.OUTBOUND_ALLOW_NETWORKS = ["0.0.0.0/0", "::/0"]

    error = refused(url)

    assert error.refused_rule == "always_refused"
    assert "Opsportal never sends requests there" in error.message


def test_it_refuses_loopback_by_default_and_allows_it_with_the_setting(settings, serve) -> None:
    srv = serve()

    error = refused(srv.url + "/ok")
    assert error.refused_rule == "loopback"
    assert "127.0.0.1, a loopback address" in error.message and "OUTBOUND_ALLOW_NETWORKS" in error.message
    assert srv.requests == []

    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    assert http.request("GET", srv.url + "/ok").json() == {"ok": True}
    assert [path for path, _ in srv.requests] == ["/ok"]


@pytest.mark.parametrize("host", ["localhost", "2130706433", "0177.0.0.1"])
def test_it_refuses_names_and_spellings_that_resolve_to_loopback(serve, host: str) -> None:
    srv = serve()
    port = srv.server_address[1]

    error = refused(f"http://{host}:{port}/ok")

    assert error.refused_rule == "loopback"
    assert f"{host} resolves to 127.0.0.1" in error.message
    assert srv.requests == []


def test_the_deny_list_refuses_and_the_most_specific_entry_wins(settings, serve) -> None:
    srv = serve()
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]
    settings.OUTBOUND_DENY_NETWORKS = ["127.0.0.1/32"]

    error = refused(srv.url + "/ok")
    assert error.refused_rule == "denied" and "127.0.0.1/32 of OUTBOUND_DENY_NETWORKS" in error.message

    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    settings.OUTBOUND_DENY_NETWORKS = ["127.0.0.0/8"]
    assert http.request("GET", srv.url + "/ok").status_code == 200


def test_a_redirect_to_the_metadata_address_is_refused(settings, serve) -> None:
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    srv = serve(redirect_to="http://169.254.169.254/latest/meta-data/iam/security-credentials/")

    error = refused(srv.url + "/redirect", follow_redirects=True)

    assert error.refused_rule == "always_refused"
    assert error.message.startswith(f"{srv.url}/redirect redirected to an address that the outbound policy refuses")
    assert "security-credentials" not in error.message  # the hop is named by its address only
    assert [path for path, _ in srv.requests] == ["/redirect"]


def test_a_redirect_to_a_loopback_address_that_is_not_allowed_is_refused(settings, serve) -> None:
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    internal = serve(host="127.0.0.2")  # another loopback address: not in the allow list
    srv = serve(redirect_to=internal.url + "/admin")

    error = refused(srv.url + "/redirect", follow_redirects=True)

    assert error.refused_rule == "loopback" and "127.0.0.2" in error.message
    assert internal.requests == []


def test_an_allowed_redirect_is_followed_a_bounded_number_of_times(settings, serve) -> None:
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    target = serve()
    srv = serve(redirect_to=target.url + "/ok")
    loop = serve()
    loop.redirect_to = loop.url + "/redirect"

    assert http.request("GET", srv.url + "/redirect", follow_redirects=True).json() == {"ok": True}
    # Not followed unless asked: the caller sees the 302 and nothing else is requested.
    assert http.request("GET", srv.url + "/redirect").status_code == 302
    assert len(target.requests) == 1
    with pytest.raises(http.HttpError, match=f"redirected more than {http.MAX_REDIRECTS} times"):
        http.request("GET", loop.url + "/redirect", follow_redirects=True)
    assert len(loop.requests) == http.MAX_REDIRECTS + 1


def test_it_connects_to_the_address_it_checked_and_keeps_the_host_name(settings, serve, monkeypatch) -> None:
    # DNS rebinding: the first answer is checked; a later lookup of the same name would answer the
    # metadata address. The connection must use the checked address and never ask again.
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    srv = serve()
    port = srv.server_address[1]
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            lookups.append(host)
            host = "127.0.0.1" if len(lookups) == 1 else "169.254.169.254"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)

    response = http.request("GET", f"http://rebind.test:{port}/ok")

    assert response.json() == {"ok": True}
    assert lookups == ["rebind.test"]
    assert srv.requests == [("/ok", f"rebind.test:{port}")]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "Only http and https"),
        ("gopher://127.0.0.1:6379/_INFO", "Only http and https"),
        ("http://user:pw@example.com/", "user name or password"),
        ("http://@169.254.169.254/", "user name or password"),
        ("http://example.com\\@169.254.169.254/", "backslash"),
        ("http://169.254.169.254.nip.io\t/", "control character"),
        ("http:///path", "names no host"),
    ],
)
def test_the_static_check_refuses_odd_urls_without_any_network(url: str, words: str) -> None:
    with pytest.raises(outbound.OutboundRefused, match=words):
        outbound.check_url(url)


def test_a_network_list_with_a_typo_is_a_configuration_error() -> None:
    with pytest.raises(ImproperlyConfigured, match="OUTBOUND_ALLOW_NETWORKS: “10.0.0.1/8” is not a network"):
        outbound.parse_networks(["10.0.0.1/8"], setting="OUTBOUND_ALLOW_NETWORKS")
