"""Waiting for another caller's fill: one poller per key, shared by every waiter.

A reader that misses while someone else holds the fill lock may wait for the
value instead of recomputing it. However many readers wait on one key in this
process, a single task polls Redis for it (with backoff, in a single flight), so
a stampede of waiters costs Redis a handful of reads, not one per waiter per
poll; when every waiter has given up, the polling stops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from afirgen_runtime.single_flight import SingleFlight

from afirgen_cache.domain.namespaces import Namespace
from afirgen_cache.service_layer.ports import CacheStore, Slot, Snapshot

FIRST_POLL_SECONDS = 0.002
MAX_POLL_SECONDS = 0.02


@dataclass
class Filled:
    """What a watch saw: the value arrived, or the lock came free and the watch took it."""

    snap: Snapshot
    slot: Slot
    claimed: bool = False
    """The lock the watch took has been handed to one waiter (who fills)."""

    def claim_lock(self) -> bool:
        """True for exactly one caller, if the watch holds the fill lock."""
        if not self.slot.locked or self.claimed:
            return False
        self.claimed = True
        return True


class FillWatches:
    """Shared watches of keys being filled."""

    def __init__(
        self,
        store: CacheStore,
        *,
        longest_seconds: float,
        lock_ms: int,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._longest = longest_seconds
        self._lock_ms = lock_ms
        self._sleep = sleep
        self._watches: SingleFlight[tuple[str, str], Filled | None] = SingleFlight()

    async def wait(self, space: Namespace, key: str, budget: float) -> Filled | None:
        """Wait up to ``budget`` seconds; ``None`` when nothing happened in time.
        Store failures raise :class:`afirgen_runtime.errors.Unavailable`."""
        try:
            async with asyncio.timeout(budget):
                filled, _ = await self._watches.run((space.name, key), lambda: self._watch(space, key))
        except TimeoutError:
            return None
        return filled

    async def _watch(self, space: Namespace, key: str) -> Filled | None:
        until = time.monotonic() + self._longest
        delay = FIRST_POLL_SECONDS
        while time.monotonic() + delay <= until:
            await self._sleep(delay)
            snap = await self._store.read(space, [key], lock_ms=self._lock_ms)
            slot = snap.slots[0]
            if slot.raw is not None or slot.locked:
                return Filled(snap, slot)
            delay = min(delay * 2, MAX_POLL_SECONDS)
        return None
