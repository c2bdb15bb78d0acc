"""HTTP scaffolding shared by the model-server scripts (asr_server.py, ocr_server.py).

Standard library only, so it runs in any python3 >= 3.8 beside the script that
imports it (the script's folder is first on ``sys.path``): the options every server
takes (each with an ``AFIRGEN_<SERVER>_*`` environment default), JSON answers with
OpenAI-style errors, the two failures every server refuses with (bad input: 400;
every worker busy: 503), a bounded pool of worker slots, reading a request body
within a limit, and a threaded server that stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import SplitResult, urlsplit


class BadRequest(Exception):
    """A client error answered with HTTP 400; ``close`` ends the connection (body left unread)."""

    def __init__(self, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.close = close


class Busy(Exception):
    """No worker slot became free in time (HTTP 503)."""


class Slots:
    """At most ``workers`` jobs at once; a caller waits ``queue_timeout`` seconds for one, then :class:`Busy`."""

    def __init__(self, workers: int, queue_timeout: float, what: str) -> None:
        self.workers = workers
        self.queue_timeout = queue_timeout
        self._what = what
        self._free = threading.BoundedSemaphore(workers)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold one slot for the ``with`` block."""
        if not self._free.acquire(timeout=self.queue_timeout):
            raise Busy(f"all {self.workers} {self._what} workers busy for {self.queue_timeout:g}s")
        try:
            yield
        finally:
            self._free.release()


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON.

    Subclasses name their one POST route (``post_route``) and implement :meth:`post`;
    they may add fields to ``/health`` (:meth:`health`) and GET routes (:meth:`get`).
    """

    protocol_version = "HTTP/1.1"
    log = logging.getLogger("model_http")
    post_route = ""

    @classmethod
    def bind(cls, **attributes: object) -> type[JsonHandler]:
        """A subclass with ``attributes`` set on the class (the server builds one handler per request)."""
        return type("BoundHandler", (cls,), attributes)

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

    def read_body(self, limit: int, too_large: str, empty: str) -> bytes:
        """The request body, at most ``limit`` bytes; refusals close the connection (the body stays unread).

        ``too_large`` is the refusal of a longer body, with ``{length}`` for its length; ``empty``
        the refusal of an empty one.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise BadRequest("chunked bodies are not supported; send Content-Length", close=True)
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise BadRequest("missing Content-Length", close=True)
        try:
            length = int(length_header)
        except ValueError as exc:
            raise BadRequest("invalid Content-Length", close=True) from exc
        if length <= 0:
            raise BadRequest(empty, close=True)
        if length > limit:
            raise BadRequest(too_large.format(length=length), close=True)
        data = self.rfile.read(length)
        if len(data) != length:
            raise BadRequest("body shorter than Content-Length", close=True)
        return data

    def health(self) -> dict:
        """Fields of the ``/health`` answer beside ``"status": "ok"``."""
        return {}

    def get(self, path: str) -> dict | None:
        """The answer of a GET route other than ``/health``; ``None``: no such route."""
        return None

    def post(self, url: SplitResult) -> dict | str:
        """Answer a request to ``post_route``: a JSON object, or text (sent as text/plain).

        Raises :class:`BadRequest` (400) and :class:`Busy` (503); anything else is a 500.
        """
        raise NotImplementedError

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        answer = {"status": "ok", **self.health()} if path in ("/health", "/healthz") else self.get(path)
        if answer is None:
            self.fail(HTTPStatus.NOT_FOUND, f"no route GET {path}")
        else:
            self.send_json(HTTPStatus.OK, answer)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path != self.post_route:
            self.fail(HTTPStatus.NOT_FOUND, f"no route POST {url.path}", close=True)
            return
        try:
            answer = self.post(url)
        except BadRequest as exc:
            self.fail(HTTPStatus.BAD_REQUEST, str(exc), close=exc.close)
            return
        except Busy as exc:
            self.fail(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
            return
        except Exception as exc:  # pragma: no cover - unexpected failures
            self.log.exception("POST %s failed", url.path)
            self.fail(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
            return
        if isinstance(answer, str):
            self.send_body(HTTPStatus.OK, answer.encode(), "text/plain; charset=utf-8")
        else:
            self.send_json(HTTPStatus.OK, answer)


def server_options(
    description: str, server: str, *, port: int, workers: int, queue_timeout: float, max_bytes: int
) -> tuple[argparse.ArgumentParser, Callable[..., None]]:
    """A parser with the options every model server takes, and ``option`` to add the server's own.

    ``option("--flag", default, type=..., help=...)`` reads its default from
    ``AFIRGEN_<SERVER>_<FLAG>`` (``env=`` names another variable); a string default is
    converted by ``type`` as a command-line value would be, and a flag with neither a
    default nor its variable set is required.
    """
    parser = argparse.ArgumentParser(description=description)

    def option(flag: str, default: object = None, *, env: str | None = None, **kwargs: object) -> None:
        variable = env or f"AFIRGEN_{server}_{flag[2:].upper().replace('-', '_')}"
        value = os.environ.get(variable, default)
        required = bool(kwargs.pop("required", False)) and value is None
        parser.add_argument(flag, default=value, required=required, **kwargs)

    option("--host", "127.0.0.1")
    option("--port", str(port), type=int)
    option("--workers", str(workers), type=int, help=f"requests worked on at once (default {workers})")
    option(
        "--queue-timeout",
        str(queue_timeout),
        type=float,
        help=f"seconds to wait for a free worker before 503 (default {queue_timeout:g})",
    )
    option("--max-bytes", str(max_bytes), type=int, help=f"largest accepted upload in bytes (default {max_bytes})")
    option("--log-level", "INFO")
    return parser, option


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
