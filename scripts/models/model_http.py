"""HTTP scaffolding shared by the model-server scripts (asr_server.py, ocr_server.py).

Standard library only, so it runs in any python3 >= 3.8 beside the script that
imports it (the script's folder is first on ``sys.path``): JSON answers with
OpenAI-style errors, the two failures every server refuses with (bad input: 400;
every worker busy: 503), and a threaded server that stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BadRequest(Exception):
    """A client error answered with HTTP 400."""


class Busy(Exception):
    """No worker slot became free in time (HTTP 503)."""


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON; subclasses add ``do_GET``/``do_POST``."""

    protocol_version = "HTTP/1.1"
    log = logging.getLogger("model_http")

    def log_message(self, format: str, *args: object) -> None:
        self.log.info("%s - %s", self.address_string(), format % args)

    def send_body(self, status: int, body: bytes, content_type: str, close: bool = False) -> None:
        """Answer ``body``; ``close`` ends the connection (an unread body is left in the socket)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, payload: dict, close: bool = False) -> None:
        """Answer ``payload`` as JSON."""
        self.send_body(
            status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8", close
        )

    def fail(self, status: int, message: str, close: bool = False) -> None:
        """An OpenAI-style error: ``{"error": {"message": ..., "type": ...}}``."""
        kind = "invalid_request_error" if status < HTTPStatus.INTERNAL_SERVER_ERROR else "server_error"
        self.send_json(status, {"error": {"message": message, "type": kind}}, close)


def configure_logging(level: str) -> None:
    """One line per record on stderr."""
    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def serve(host: str, port: int, handler: type[BaseHTTPRequestHandler], log: logging.Logger, started: str) -> int:
    """Serve ``handler`` on ``host:port`` until SIGTERM or SIGINT; logs ``started`` once listening."""
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True

    def _stop(signum: int, _frame: object) -> None:
        log.info("signal %s received, shutting down", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info(started)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
    log.info("stopped")
    return 0
