"""Settings: parsed once from environment variables into frozen dataclasses.

A service declares ``@dataclass(frozen=True)`` classes whose fields have
defaults; :func:`load` fills them from ``AFIRGEN_<PATH>`` variables, where the
path is the field name, upper-cased, with nested dataclasses joined by ``_``
(``settings.mysql.host`` <- ``AFIRGEN_MYSQL_HOST``). Nothing below the
composition root reads ``os.environ``.

Supported field types: ``str``, ``int``, ``float``, ``bool``, ``Path``,
``tuple[str, ...]`` (comma separated), ``dict[str, str]`` (``a=b,c=d``; a part without ``=``
belongs to the value before it, so ``fir=ipv4:127.0.0.1:1,127.0.0.1:2`` is one pair),
nested settings dataclasses and ``X | None`` of those scalars.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from afirgen_runtime.errors import InvalidArgument

T = TypeVar("T")

PREFIX = "AFIRGEN"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(InvalidArgument):
    """An environment variable has a value of the wrong shape."""


def within(name: str, value: float, low: float, high: float) -> None:
    """Refuse a setting outside ``[low, high]`` (``name``: its environment variable)."""
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be between {low:g} and {high:g}, got {value:g}")


def _parse(raw: str, kind: Any, name: str) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(kind) if a is not type(None)]
        return None if raw == "" else _parse(raw, inner[0], name)
    if kind is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise SettingsError(f"{name}: expected a boolean, got {raw!r}")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise SettingsError(f"{name}: expected {kind.__name__}, got {raw!r}") from None
    if kind is Path:
        return Path(raw)
    if origin is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if origin is dict:
        pairs: dict[str, str] = {}
        key = ""
        for item in filter(None, (p.strip() for p in raw.split(","))):
            head, sep, value = item.partition("=")
            if sep:
                key = head.strip()
                pairs[key] = value.strip()
            elif key:  # a value with commas, such as a gRPC target listing several addresses
                pairs[key] += "," + item
            else:
                raise SettingsError(f"{name}: expected key=value pairs, got {item!r}")
        return pairs
    return raw


def load(cls: type[T], environ: Mapping[str, str] | None = None, prefix: str = PREFIX) -> T:
    """Build ``cls`` from ``environ`` (default ``os.environ``) and defaults."""
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        kind = hints[field.name]
        name = f"{prefix}_{field.name.upper()}"
        if dataclasses.is_dataclass(kind):
            # Start from the enclosing default (it may differ from the nested
            # class's own defaults), then apply the variables that are set.
            base = _default(field)
            nested = load(kind, env, name)  # type: ignore[arg-type]
            nested_hints = hints_of(typing.cast(type[Any], kind))
            overrides = {
                f.name: getattr(nested, f.name)
                for f in dataclasses.fields(kind)
                if _is_set(env, f"{name}_{f.name.upper()}", f, nested_hints)
            }
            values[field.name] = dataclasses.replace(base, **overrides) if base is not None else nested
        elif name in env:
            values[field.name] = _parse(env[name], kind, name)
    return cls(**values)


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def hints_of(cls: type[Any]) -> dict[str, Any]:
    """Resolved type hints of a settings class."""
    return typing.get_type_hints(cls)


def _is_set(env: Mapping[str, str], name: str, field: dataclasses.Field[Any], hints: dict[str, Any]) -> bool:
    """True when ``field`` (or, for a nested class, any of its fields) has a variable."""
    if dataclasses.is_dataclass(hints[field.name]):
        return any(key.startswith(name + "_") for key in env)
    return name in env


@dataclasses.dataclass(frozen=True)
class MetricsSettings:
    """The ``/metrics`` endpoint."""

    port: int = 0
    """Port of the Prometheus endpoint on 127.0.0.1 (0: no endpoint)."""
    host: str = "127.0.0.1"
    """Interface of the endpoint."""


@dataclasses.dataclass(frozen=True)
class TracingSettings:
    """Where spans go."""

    otlp_endpoint: str = ""
    """OTLP/gRPC collector, e.g. ``127.0.0.1:4317``; empty turns tracing off."""
    sample_ratio: float = 1.0
    """Fraction of new traces recorded (child spans follow their parent's decision)."""


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """How a service's gRPC server listens and shuts down."""

    host: str = "127.0.0.1"
    """Interface to bind."""
    port: int = 50051
    """gRPC port."""
    max_message_bytes: int = 8 * 1024 * 1024
    """Largest request or response message."""
    max_concurrent_rpcs: int = 1000
    """Calls served at once; more are refused with RESOURCE_EXHAUSTED."""
    shutdown_grace_seconds: float = 10.0
    """Time in-flight calls get to finish after SIGTERM."""
    keepalive_time_seconds: float = 30.0
    """Ping idle clients this often."""
    keepalive_timeout_seconds: float = 10.0
    """Drop a client that does not answer a ping within this time."""
    reflection: bool = True
    """Serve gRPC server reflection."""
    default_deadline_seconds: float = 10.0
    """Deadline of a call whose client set none (methods may have their own: ``ServiceApp.deadlines``)."""
    environment: str = "production"
    """``production`` refuses known or weak secrets at start-up; ``development`` accepts them."""
    metrics: MetricsSettings = dataclasses.field(default_factory=MetricsSettings)
    """Prometheus endpoint (``AFIRGEN_SERVER_METRICS_*``)."""
    tracing: TracingSettings = dataclasses.field(default_factory=TracingSettings)
    """OpenTelemetry export (``AFIRGEN_SERVER_TRACING_*``)."""


@dataclasses.dataclass(frozen=True)
class LogSettings:
    """Log output."""

    level: str = "INFO"
    """Default level."""
    module_levels: dict[str, str] = dataclasses.field(default_factory=dict)
    """Per-module levels, e.g. ``afirgen_fir.adapters=DEBUG``."""
    json: bool = True
    """One JSON object per line (off: human-readable lines)."""
    access: str = "all"
    """Access log of served calls: ``all`` (one INFO line per call), ``errors`` (failed or slow calls only)."""


@dataclasses.dataclass(frozen=True)
class MySQLSettings:
    """Connection to the service's own MySQL schema."""

    host: str = "127.0.0.1"
    """Server host."""
    port: int = 3306
    """Server port."""
    user: str = "afirgen"
    """User."""
    password: str = "afirgen"
    """Password."""
    database: str = "fir"
    """Schema owned by the service."""
    pool_min: int = 2
    """Connections kept open."""
    pool_max: int = 20
    """Connections at most."""
    connect_timeout_seconds: float = 3.0
    """Connect timeout."""
    query_retries: int = 4
    """Attempts for a transient failure (lost connection, deadlock, lock wait)."""
    slow_query_seconds: float = 0.2
    """Statements slower than this are logged with their name."""

    def url(self) -> str:
        """yoyo/SQLAlchemy style URL (``mysql://user:pass@host:port/db``)."""
        return f"mysql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"
