"""A real HTTP receiver of the FIR webhooks for the jobs end-to-end tests.

The test stack points the fir service's webhook at ``stack.cfg.webhook_port``;
this receiver listens there for the whole session and records every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.devstack.stack import Stack


@dataclass
class Delivery:
    """One POST the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    time: float


@dataclass
class Receiver:
    """Everything received so far."""

    secret: str
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> list[Delivery]:
        """A copy, safe to iterate while requests arrive."""
        with self.lock:
            return list(self.deliveries)


@pytest.fixture(scope="session")
def webhook(stack: Stack) -> Iterator[Receiver]:
    """Listen on the stack's webhook port, answering 200 to every POST."""
    receiver = Receiver(stack.cfg.webhook_secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.deliveries.append(
                    Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
                )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", stack.cfg.webhook_port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
