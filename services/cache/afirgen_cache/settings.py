"""Settings of the cache service (``AFIRGEN_*`` environment variables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from afirgen_runtime.settings import LogSettings, ServerSettings

from afirgen_cache.domain.policy import Policy
from afirgen_cache.domain.validation import EntryLimits
from afirgen_cache.service_layer.invalidation_feed import FeedSettings

DEFAULT_NAMESPACES = {
    "fir": "300",
    "fir_list": "60",
    "fir_stats": "10",
    "legal_sections": "3600",
}


@dataclass(frozen=True)
class RedisSettings:
    """Connection to Redis."""

    host: str = "127.0.0.1"
    """Server host."""
    port: int = 6379
    """Server port."""
    db: int = 0
    """Database number."""
    password: str = ""
    """Password (empty: none)."""
    max_connections: int = 64
    """Size of the blocking connection pool: calls beyond it wait for a free connection."""
    pool_timeout_seconds: float = 1.0
    """Longest wait for a free connection; callers' deadlines (50 ms) usually end the wait first."""
    socket_timeout_seconds: float = 0.25
    """Read/write timeout of one command."""
    connect_timeout_seconds: float = 0.25
    """Connect timeout."""


@dataclass(frozen=True)
class CacheSettings(Policy, EntryLimits):
    """Everything the cache service reads from its environment: how entries expire, refresh and
    get filled (``Policy``), what one request may carry (``EntryLimits``), and the
    fields below."""

    server: ServerSettings = field(default_factory=lambda: ServerSettings(port=50053))
    """gRPC server (``AFIRGEN_SERVER_*``)."""
    log: LogSettings = field(default_factory=LogSettings)
    """Logging (``AFIRGEN_LOG_*``)."""
    redis: RedisSettings = field(default_factory=RedisSettings)
    """Redis (``AFIRGEN_REDIS_*``)."""
    feed: FeedSettings = field(default_factory=FeedSettings)
    """The invalidation feed near caches follow (``AFIRGEN_FEED_*``)."""
    namespaces: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_NAMESPACES))
    """Declared namespaces and their default TTL in seconds (``fir=300,fir_list=60``); others are refused."""
