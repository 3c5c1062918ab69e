"""A tiny SMTP server on 127.0.0.1 that answers what a test tells it to (a real socket and Django's
real SMTP backend, so the error mapping is tested against what smtplib raises)."""

from __future__ import annotations

import socketserver
import threading
from typing import Any


class SMTPServer:
    def __init__(self, *, rcpt_reply: str = "250 OK", data_reply: str = "250 OK queued") -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.messages: list[bytes] = []
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self._say("220 smtp.test ESMTP")
                while line := self.rfile.readline():
                    command = line.decode().strip().upper()
                    if command.startswith(("EHLO", "HELO")):
                        self._say("250 smtp.test")
                    elif command.startswith("MAIL FROM"):
                        self._say("250 OK")
                    elif command.startswith("RCPT TO"):
                        self._say(owner.rcpt_reply)
                    elif command == "DATA":
                        self._say("354 End data with <CR><LF>.<CR><LF>")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk
                        owner.messages.append(data)
                        self._say(owner.data_reply)
                    elif command == "QUIT":
                        self._say("221 Bye")
                        return
                    else:
                        self._say("250 OK")

            def _say(self, text: str) -> None:
                self.wfile.write(text.encode() + b"\r\n")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
