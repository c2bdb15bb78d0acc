"""Use cases of the cache service: get (with single flight and early refresh),
set (with leases and jitter), batches, deletes, invalidation, statistics."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from afirgen_runtime.errors import Unavailable
from loguru import logger

from afirgen_cache.domain.envelope import Entry, pack, unpack
from afirgen_cache.domain.namespaces import Namespace, resolve
from afirgen_cache.domain.policy import Policy, Random, jittered_ttl, should_refresh_early
from afirgen_cache.domain.stats import Counters, StatsBook
from afirgen_cache.domain.validation import EntryLimits, Violations
from afirgen_cache.service_layer.fill_waits import FillWatches
from afirgen_cache.service_layer.ports import CacheStore, ServerInfo, Write

UNKNOWN_SERVER = ServerInfo(0, 0, "", 0, 0, "", 0)


@dataclass(frozen=True)
class Lookup:
    """Result of :meth:`CacheService.get`."""

    found: bool
    value: bytes
    should_refresh: bool
    """The caller was chosen to fill the miss or to refresh the entry early."""
    lease: int


@dataclass(frozen=True)
class Report:
    """Statistics of every declared namespace and of the store."""

    namespaces: list[tuple[Namespace, Counters]]
    server: ServerInfo
    eviction_policy_ok: bool


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class CacheService:
    """The cache's use cases over a :class:`CacheStore`."""

    def __init__(
        self,
        store: CacheStore,
        spaces: Mapping[str, Namespace],
        *,
        limits: EntryLimits,
        policy: Policy,
        rand: Random = random.random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._spaces = dict(spaces)
        self._limits = limits
        self._policy = policy
        self._rand = rand
        self._lock_ms = _ms(policy.fill_lock_seconds)
        self._fills = FillWatches(
            store, longest_seconds=policy.max_fill_wait_seconds, lock_ms=self._lock_ms, sleep=sleep
        )
        self.stats = StatsBook()
        self.last_server = UNKNOWN_SERVER
        """Redis facts of the latest report (for metrics between reports)."""
        for name in self._spaces:
            self.stats.of(name)

    @property
    def namespaces(self) -> Mapping[str, Namespace]:
        """The declared namespaces by name."""
        return self._spaces

    @contextmanager
    def _errors_counted(self, counters: Counters) -> Iterator[None]:
        try:
            yield
        except Unavailable:
            counters.errors += 1
            raise

    def _ttl_ms(self, space: Namespace, ttl: float) -> int:
        return _ms(jittered_ttl(ttl or space.default_ttl, self._policy.ttl_jitter, self._rand))

    # --- reads ------------------------------------------------------------------
    async def get(self, namespace: str, key: str, max_wait: float = 0.0) -> Lookup:
        """Read one entry. On a miss the first caller takes the fill lock
        (``should_refresh``); others wait up to ``max_wait`` for its value.
        On a hit close to expiry one caller may be chosen to refresh early."""
        space = resolve(self._spaces, namespace)
        check = Violations()
        check.key(key, "key", self._limits)
        check.duration(max_wait, "max_wait")
        check.raise_if_any()
        counters = self.stats.of(space.name)
        budget = min(max_wait, self._policy.max_fill_wait_seconds)
        with self._errors_counted(counters):
            snap = await self._store.read(space, [key], lock_ms=self._lock_ms)
            slot = snap.slots[0]
            entry = unpack(slot.raw)
            if entry is not None:
                counters.hits += 1
                refresh = await self._refresh_early(space, snap.version, key, entry, slot.ttl_ms)
                return Lookup(True, entry.value, refresh, snap.now_us)
            if slot.locked or budget <= 0:
                counters.misses += 1
                return Lookup(False, b"", slot.locked, snap.now_us)
            filled = await self._fills.wait(space, key, budget)
        counters.fill_waits += 1
        entry = unpack(filled.slot.raw) if filled else None
        if filled is not None and entry is not None:
            counters.hits += 1
            return Lookup(True, entry.value, False, filled.snap.now_us)
        counters.misses += 1
        if filled is not None and filled.claim_lock():  # the filler gave up: this caller fills
            return Lookup(False, b"", True, filled.snap.now_us)
        return Lookup(False, b"", False, snap.now_us)

    async def _refresh_early(self, space: Namespace, version: int, key: str, entry: Entry, ttl_ms: int) -> bool:
        """XFetch: maybe choose this caller (one at a time) to recompute before expiry."""
        beta = self._policy.early_refresh_beta
        if not should_refresh_early(entry.compute_seconds, ttl_ms / 1000, beta, self._rand):
            return False
        chosen = await self._store.lock(space, version, key, self._lock_ms)
        self.stats.of(space.name).early_refreshes += chosen
        return chosen

    def _on_keys(self, namespace: str, keys: list[str]) -> tuple[Namespace, Counters, list[str]]:
        """A call on several keys: its namespace, that namespace's counters and the distinct keys
        in their order (INVALID_ARGUMENT before any work when a key breaks the limits)."""
        space = resolve(self._spaces, namespace)
        check = Violations()
        check.keys(keys, "keys", self._limits)
        check.raise_if_any()
        return space, self.stats.of(space.name), list(dict.fromkeys(keys))

    async def batch_get(self, namespace: str, keys: list[str]) -> tuple[dict[str, bytes], int]:
        """Found entries by key, and the lease of the read."""
        space, counters, unique = self._on_keys(namespace, keys)
        with self._errors_counted(counters):
            snap = await self._store.read(space, unique)
        found: dict[str, bytes] = {}
        for key, slot in zip(unique, snap.slots, strict=True):
            entry = unpack(slot.raw)
            if entry is not None:
                found[key] = entry.value
        counters.hits += len(found)
        counters.misses += len(unique) - len(found)
        return found, snap.now_us

    # --- writes -----------------------------------------------------------------
    def _check_lease(self, check: Violations, lease: int) -> None:
        if lease < 0:
            check.add("lease", "must not be negative")

    async def set(
        self, namespace: str, key: str, value: bytes, *, ttl: float = 0.0, compute_time: float = 0.0, lease: int = 0
    ) -> bool:
        """Store one entry (TTL: the namespace default when 0, jittered);
        ``False`` when the lease was stale."""
        space = resolve(self._spaces, namespace)
        check = Violations()
        check.key(key, "key", self._limits)
        check.value(value, "value", self._limits)
        check.duration(ttl, "ttl", self._limits.max_ttl_seconds)
        check.duration(compute_time, "compute_time")
        self._check_lease(check, lease)
        check.raise_if_any()
        counters = self.stats.of(space.name)
        write = Write(key, pack(value, compute_time), self._ttl_ms(space, ttl))
        with self._errors_counted(counters):
            (stored,) = await self._store.write(space, [write], lease=lease, lease_ttl_us=self._lease_us)
        if stored:
            counters.sets += 1
        else:
            counters.stale_sets += 1
        return stored

    async def batch_set(self, namespace: str, values: Mapping[str, bytes], *, ttl: float = 0.0, lease: int = 0) -> int:
        """Store several entries (each with its own jitter); returns how many were stored."""
        space = resolve(self._spaces, namespace)
        check = Violations()
        check.values(values, "values", self._limits)
        check.duration(ttl, "ttl", self._limits.max_ttl_seconds)
        self._check_lease(check, lease)
        check.raise_if_any()
        counters = self.stats.of(space.name)
        writes = [Write(key, pack(value, 0.0), self._ttl_ms(space, ttl)) for key, value in values.items()]
        with self._errors_counted(counters):
            flags = await self._store.write(space, writes, lease=lease, lease_ttl_us=self._lease_us)
        stored = sum(flags)
        counters.sets += stored
        counters.stale_sets += len(flags) - stored
        return stored

    @property
    def _lease_us(self) -> int:
        return round(self._policy.lease_seconds * 1_000_000)

    async def delete(self, namespace: str, keys: list[str]) -> int:
        """Delete entries (leaving tombstones); returns how many existed."""
        space, counters, unique = self._on_keys(namespace, keys)
        with self._errors_counted(counters):
            existed = await self._store.delete(space, unique, tombstone_ms=_ms(self._policy.lease_seconds))
        counters.deletes += len(unique)
        return existed

    async def invalidate(self, namespace: str) -> int:
        """Drop every entry of the namespace in O(1); returns the new version."""
        space = resolve(self._spaces, namespace)
        counters = self.stats.of(space.name)
        with self._errors_counted(counters):
            version = await self._store.invalidate(space)
        counters.invalidations += 1
        return version

    # --- operations -------------------------------------------------------------
    def policy_ok(self, info: ServerInfo) -> bool:
        """Redis has a memory limit and the expected eviction policy."""
        return info.max_memory_bytes > 0 and info.eviction_policy == self._policy.expected_eviction_policy

    async def report(self) -> Report:
        """Counters of every namespace and the store's memory facts (zeros when it is down)."""
        try:
            info = await self._store.info()
        except Unavailable:
            info = UNKNOWN_SERVER
        self.last_server = info
        spaces = [(space, self.stats.of(name)) for name, space in sorted(self._spaces.items())]
        return Report(spaces, info, self.policy_ok(info))

    async def check_memory_policy(self) -> bool:
        """Log Redis's memory limit and eviction policy; warn when it could run out of memory."""
        info = self.last_server = await self._store.info()
        ok = self.policy_ok(info)
        facts = {
            "max_memory_bytes": info.max_memory_bytes,
            "eviction_policy": info.eviction_policy,
            "redis_version": info.version,
        }
        if ok:
            logger.info("redis memory policy ok", **facts)
        else:
            logger.warning(
                "redis has no memory limit or an unexpected eviction policy; expected maxmemory > 0 and {}",
                self._policy.expected_eviction_policy,
                **facts,
            )
        return ok
