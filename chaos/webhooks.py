"""A receiver of the fir service's finalization webhooks, for the fault suite and the tests.

The stack points fir's webhook at ``StackConfig.webhook_port``; the receiver listens there,
answers 200 to every POST and keeps each one, so a run can count notices per FIR and
notices delivered more than once (same ``Idempotency-Key``: delivery is at least once)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    """One POST the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    time: float

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


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

    def for_firs(self, fir_ids: set[str]) -> list[Delivery]:
        """The notices about any of ``fir_ids``."""
        return [d for d in self.snapshot() if d.json().get("fir_id") in fir_ids]

    @staticmethod
    def repeated(deliveries: list[Delivery]) -> int:
        """Notices delivered again after their first delivery (same idempotency key)."""
        keys = Counter(d.headers.get("idempotency-key", "") for d in deliveries)
        return sum(n - 1 for n in keys.values())


class WebhookServer:
    """A :class:`Receiver` listening on ``127.0.0.1:port`` in a thread of its own."""

    def __init__(self, port: int, secret: str) -> None:
        self.receiver = Receiver(secret)
        receiver = self.receiver

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.deliveries.append(Delivery(self.path, headers, body, time.time()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self.receiver

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
