"""JSON logging with loguru: one object per line, redacted, with request ids.

Call :func:`configure` once at start-up. Fields of every line: ``timestamp``,
``level``, ``service``, ``module``, ``request_id``, ``trace_id``, ``message``,
``context`` (the ``extra`` of ``logger.bind``/keyword arguments) and, for
errors, ``exception`` with type, message and stack trace. Standard-library
logging (grpc, aiomysql, tenacity) is routed into the same pipeline.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from loguru import logger

from afirgen_runtime.context import request_id_var
from afirgen_runtime.redaction import redact_record, redact_text
from afirgen_runtime.settings import LogSettings

TraceIdProvider = Callable[[], str]
SLOW_CALL_SECONDS = 1.0
_access_all = True


def access_all() -> bool:
    """True when every served call gets an access log line (else failed and slow ones only)."""
    return _access_all


_trace_id_provider: TraceIdProvider = lambda: ""  # noqa: E731


_access_sink: Callable[[str, str, float], None] | None = None
_json_str: Callable[[str], str] = json.encoder.encode_basestring
"""A JSON string as ``json.dumps(text, ensure_ascii=False)`` writes it (in C)."""
ACCESS_MODULE = "afirgen_runtime.interceptors"
ACCESS_FLUSH_SECONDS = 0.1
"""Access lines are written in batches at most this late (a crash loses at most this much of them)."""
ACCESS_BATCH_LINES = 256
"""... or as soon as this many are waiting."""
"""Where access lines come from (the shared server interceptor), as their ``module`` field says."""


def access(method: str, code: str, duration_ms: float) -> None:
    """One access log line of a served call, as ``logger.info("rpc", method=..., code=...,
    duration_ms=...)`` would write it, built directly: every call of a busy service writes one,
    and its fields are a method name, a status code and a number (nothing to redact). Inside the
    event loop lines are written in batches (every :data:`ACCESS_FLUSH_SECONDS` or
    :data:`ACCESS_BATCH_LINES` lines). Nothing is written before :func:`configure`, or when INFO
    lines of the interceptor are filtered out."""
    if _access_sink is not None:
        _access_sink(method, code, duration_ms)


def set_trace_id_provider(provider: TraceIdProvider) -> None:
    """Tracing installs a function returning the current trace id (hex) here."""
    global _trace_id_provider
    _trace_id_provider = provider


def _patch(record: Any) -> None:
    record["extra"].setdefault("request_id", request_id_var.get())
    record["extra"].setdefault("trace_id", _trace_id_provider())
    redact_record(record)


def _serialize(record: Any) -> str:
    extra = dict(record["extra"])
    line: dict[str, Any] = {
        "timestamp": record["time"].isoformat(),
        "level": record["level"].name,
        "service": extra.pop("service", ""),
        "module": record["name"],
        "request_id": extra.pop("request_id", ""),
        "trace_id": extra.pop("trace_id", ""),
        "message": record["message"],
        "context": extra,
    }
    exc = record["exception"]
    if exc is not None and exc.type is not None:
        line["exception"] = {
            "type": exc.type.__name__,
            "message": redact_text(str(exc.value)),
            "stack": redact_text("".join(traceback.format_exception(exc.type, exc.value, exc.traceback))),
        }
    return json.dumps(line, default=str, ensure_ascii=False)


class _InterceptHandler(logging.Handler):
    """Send standard-library log records to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.patch(lambda r: r.update(name=record.name)).opt(exception=record.exc_info).log(  # type: ignore[call-arg]
            level, record.getMessage()
        )


def _level_filter(settings: LogSettings) -> Callable[[Any], bool]:
    default = logger.level(settings.level.upper()).no
    overrides = sorted(
        ((mod, logger.level(lvl.upper()).no) for mod, lvl in settings.module_levels.items()),
        key=lambda item: -len(item[0]),
    )

    def accept(record: Any) -> bool:
        name = record["name"] or ""
        for module, level in overrides:
            if name == module or name.startswith(module + "."):
                return bool(record["level"].no >= level)
        return bool(record["level"].no >= default)

    return accept


def configure(service: str, settings: LogSettings, stream: TextIO | None = None) -> None:
    """Install the JSON sink for ``service``; replaces any earlier configuration."""
    out = stream or sys.stdout

    def sink(message: Any) -> None:
        record = message.record
        text = (
            _serialize(record)
            if settings.json
            else f"{record['time']:%H:%M:%S} {record['level'].name:<7} {record['message']} {record['extra']}"
        )
        out.write(text + "\n")
        out.flush()

    pending: list[str] = []

    def flush_access() -> None:
        if pending:
            out.write("".join(pending))
            pending.clear()
            out.flush()

    # The fixed part of every access line, JSON-encoded once.
    head = f'"level": "INFO", "service": {_json_str(service)}, "module": {_json_str(ACCESS_MODULE)}'

    def access_line(method: str, code: str, duration_ms: float) -> None:
        now = datetime.now().astimezone()
        if not settings.json:
            context = {"method": method, "code": code, "duration_ms": duration_ms}
            text = f"{now:%H:%M:%S} INFO    rpc {context}\n"
        else:
            # What json.dumps of the line's object writes (the same members, separators and escapes),
            # put together directly: a busy service writes one per call.
            text = (
                f'{{"timestamp": "{now.isoformat()}", {head}, "request_id": {_json_str(request_id_var.get())}, '
                f'"trace_id": {_json_str(_trace_id_provider())}, "message": "rpc", "context": {{"method": '
                f'{_json_str(method)}, "code": {_json_str(code)}, "duration_ms": {float(duration_ms)!r}}}}}\n'
            )
        if pending:  # a batch is open: its flush is scheduled
            pending.append(text)
            if len(pending) >= ACCESS_BATCH_LINES:
                flush_access()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not inside the event loop: write at once
            out.write(text)
            out.flush()
            return
        # Lines of a busy second go out together, one write per batch instead of one per call.
        loop.call_later(ACCESS_FLUSH_SECONDS, flush_access)
        pending.append(text)

    atexit.register(flush_access)
    global _access_all, _access_sink
    _access_all = settings.access != "errors"
    accepted = _level_filter(settings)({"name": ACCESS_MODULE, "level": logger.level("INFO")})
    _access_sink = access_line if accepted else None
    logger.remove()
    logger.configure(extra={"service": service}, patcher=_patch)
    # The handler's own level is the lowest configured one, so calls below every
    # level (debug lines on hot paths) return before a record is even built.
    floor = min(
        [
            logger.level(settings.level.upper()).no,
            *(logger.level(v.upper()).no for v in settings.module_levels.values()),
        ]
    )
    logger.add(sink, level=floor, filter=_level_filter(settings), backtrace=False, diagnose=False)
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.INFO, force=True)
