"""The port the cache use cases need: a store with leases, tombstones and versions.

Times are the store's own clock in microseconds, so that every replica of the
service compares leases against one clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from afirgen_cache.domain.namespaces import Namespace


@dataclass(frozen=True)
class Slot:
    """What a read found under one key."""

    raw: bytes | None
    """Stored bytes (:mod:`~afirgen_cache.domain.envelope`), ``None`` when missing or a tombstone."""
    ttl_ms: int
    """Milliseconds left; -1 without expiry, -2 when missing."""
    locked: bool = False
    """This reader took the fill lock of the missing key."""


@dataclass(frozen=True)
class Snapshot:
    """One read: the namespace version, the store time (= the lease) and the slots."""

    version: int
    now_us: int
    slots: list[Slot]


@dataclass(frozen=True)
class Write:
    """One entry to store."""

    key: str
    raw: bytes
    ttl_ms: int


@dataclass(frozen=True)
class ServerInfo:
    """Memory and eviction facts of the store."""

    used_memory_bytes: int
    max_memory_bytes: int
    eviction_policy: str
    evicted_keys: int
    expired_keys: int
    version: str
    keys: int


class CacheStore(Protocol):
    """Entries by namespace. Failures raise :class:`afirgen_runtime.errors.Unavailable`."""

    async def read(self, space: Namespace, keys: Sequence[str], *, lock_ms: int = 0) -> Snapshot:
        """Read ``keys`` at the current version; with ``lock_ms``, take the fill
        lock (for that long) of each missing key if nobody holds it."""
        ...

    async def lock(self, space: Namespace, version: int, key: str, lock_ms: int) -> bool:
        """Take the fill lock of ``key`` if nobody holds it."""
        ...

    async def write(self, space: Namespace, writes: Sequence[Write], *, lease: int, lease_ttl_us: int) -> list[bool]:
        """Store entries and release their fill locks. With a ``lease`` (> 0),
        an entry is stored only if the lease is younger than ``lease_ttl_us``
        and no delete of the key or invalidation of the namespace happened
        since the lease was issued. Returns, per entry, whether it was stored."""
        ...

    async def delete(self, space: Namespace, keys: Sequence[str], *, tombstone_ms: int) -> int:
        """Replace entries by tombstones living ``tombstone_ms``, release their fill
        locks and publish the delete; returns how many entries existed."""
        ...

    async def invalidate(self, space: Namespace) -> int:
        """Move the namespace to a new, higher version and publish it; returns it."""
        ...

    async def publish_heartbeat(self) -> None:
        """Publish a heartbeat on the invalidation channel (deletes and invalidations publish
        themselves, in the same atomic step)."""
        ...

    def invalidations(self) -> AsyncIterator[bytes]:
        """Messages of the invalidation channel, in order, from the moment of the call;
        raises :class:`afirgen_runtime.errors.Unavailable` when the subscription breaks."""
        ...

    async def info(self) -> ServerInfo:
        """Memory use, limit, policy and eviction counts."""
        ...

    async def ping(self) -> bool:
        """True when the store answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
