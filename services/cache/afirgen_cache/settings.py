"""Settings of the cache service (``AFIRGEN_*`` environment variables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from afirgen_runtime.settings import LogSettings, ServerSettings

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
class CacheSettings:
    """Everything the cache service reads from its environment."""

    server: ServerSettings = field(default_factory=lambda: ServerSettings(port=50053))
    """gRPC server (``AFIRGEN_SERVER_*``)."""
    log: LogSettings = field(default_factory=LogSettings)
    """Logging (``AFIRGEN_LOG_*``)."""
    redis: RedisSettings = field(default_factory=RedisSettings)
    """Redis (``AFIRGEN_REDIS_*``)."""
    namespaces: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_NAMESPACES))
    """Declared namespaces and their default TTL in seconds (``fir=300,fir_list=60``); others are refused."""
    ttl_jitter: float = 0.1
    """A TTL is shortened by a random fraction of at most this."""
    early_refresh_beta: float = 1.0
    """XFetch beta of probabilistic early refresh (0: off)."""
    fill_lock_seconds: float = 2.0
    """Lifetime of a single-flight fill lock."""
    max_fill_wait_seconds: float = 1.0
    """Longest a reader waits for another caller's fill."""
    lease_seconds: float = 30.0
    """Lifetime of a read lease and of a delete's tombstone."""
    max_key_bytes: int = 512
    """Longest key."""
    max_value_bytes: int = 4 * 1024 * 1024
    """Largest value."""
    max_batch_keys: int = 500
    """Most keys in one batch call."""
    max_ttl_seconds: float = 7 * 24 * 3600.0
    """Longest TTL a writer may ask for."""
    expected_eviction_policy: str = "allkeys-lru"
    """Eviction policy Redis must run with (checked at start-up, reported in stats)."""
