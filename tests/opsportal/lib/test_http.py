"""opsportal.lib.http against a real local HTTP server: every failure is one clear HttpError."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opsportal.lib import http


class Server(ThreadingHTTPServer):
    """Remembers who asked, and holds ``/slow`` until the test is over."""

    seen_user_agent: str | None = None

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.test_over = threading.Event()


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        routes = {
            "/ok": (200, "application/json", b'{"hello": "world"}'),
            "/bad-json": (
                400,
                "application/json",
                b'{"code": 612, "message": "matchers should have at least 1 items"}',
            ),
            "/bad-text": (500, "text/plain", b"  silence\n not found  "),
        }
        if self.path == "/slow":
            self.server.test_over.wait(timeout=10)  # far longer than the client's timeout
            routes["/slow"] = (200, "text/plain", b"late")
        status, kind, body = routes.get(self.path, (404, "text/plain", b""))
        self.server.seen_user_agent = self.headers.get("User-Agent")
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout test)
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(autouse=True)
def allow_loopback(settings):
    """These servers listen on 127.0.0.1, which the outbound policy refuses unless allowed."""
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.test_over.set()
    srv.shutdown()
    srv.server_close()


def base(srv: Server) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}"


def test_it_returns_successful_answers_and_says_who_is_asking(server: Server) -> None:
    response = http.request("GET", base(server) + "/ok")

    assert response.json() == {"hello": "world"}
    assert server.seen_user_agent is not None and server.seen_user_agent.startswith("Opsportal/")


def test_it_names_the_status_of_an_error_answer_but_never_quotes_its_body(server: Server) -> None:
    with pytest.raises(http.HttpError) as raised:
        http.request("GET", base(server) + "/bad-json")

    assert raised.value.status_code == 400
    assert raised.value.message == f"{base(server)}/bad-json answered 400 Bad Request."
    # Kept for the server log only.
    assert raised.value.body == "matchers should have at least 1 items"


def test_it_squeezes_a_plain_text_error_body_for_the_log(server: Server) -> None:
    with pytest.raises(http.HttpError) as raised:
        http.request("GET", base(server) + "/bad-text")

    assert raised.value.status_code == 500 and raised.value.body == "silence not found"
    assert "silence" not in raised.value.message


def test_it_says_when_nothing_listens(server: Server) -> None:
    url = base(server)
    server.shutdown()
    server.server_close()

    with pytest.raises(http.HttpError) as raised:
        http.request("GET", url + "/ok")

    assert raised.value.status_code is None
    assert raised.value.message == f"Could not connect to {url}/ok: connection refused."


def test_it_gives_up_after_the_timeout(server: Server) -> None:
    with pytest.raises(http.HttpError) as raised:
        http.request("GET", base(server) + "/slow", timeout=0.3)

    assert raised.value.message == f"{base(server)}/slow did not answer within 0.3 s."
