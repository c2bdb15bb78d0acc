"""The invalidation feed: one subscription to the store's invalidation channel per process,
fanned out to every open WatchInvalidations stream, and the heartbeats that prove the path.

Every replica of the service publishes a heartbeat every ``heartbeat_seconds``
through the store, so a subscriber that hears heartbeats knows that the whole
path (store, this process, its stream) delivers, and that every invalidation
published before the heartbeat has reached it (the channel is in order).

Events are never lost silently: when the store subscription breaks, every
watcher is told to reset (once it is back); a watcher too slow to keep up with
``queue_size`` pending events is ended, and its client reconnects (its new
stream starts with a reset).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from afirgen_runtime.errors import Unavailable
from loguru import logger

from afirgen_cache.domain import invalidations
from afirgen_cache.domain.invalidations import RESET, Invalidation, Kind
from afirgen_cache.service_layer.ports import CacheStore

_END = Invalidation(Kind.RESET, namespace="\0end")
"""Queued to end a watcher's stream (it fell behind, or the service is stopping)."""


@dataclass(frozen=True)
class FeedSettings:
    """Timing of the invalidation feed."""

    heartbeat_seconds: float = 0.2
    """How often this replica publishes a heartbeat."""
    retry_seconds: float = 0.5
    """Pause before subscribing again after the store subscription broke."""
    queue_size: int = 10_000
    """Events one watcher may have pending before its stream is ended."""


@dataclass(eq=False)
class _Watcher:
    namespaces: frozenset[str]
    queue: asyncio.Queue[Invalidation] = field(default_factory=asyncio.Queue)


class InvalidationFeed:
    """Fans the store's invalidation channel out to watchers."""

    def __init__(
        self,
        store: CacheStore,
        settings: FeedSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._settings = settings
        self._sleep = sleep
        self._watchers: set[_Watcher] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = True
        self.subscribed = False
        """The store subscription is up (events flow)."""

    # --- watchers -------------------------------------------------------------------
    async def watch(self, namespaces: frozenset[str]) -> AsyncIterator[Invalidation]:
        """Events for ``namespaces`` (and heartbeats), starting with a reset; ends when the
        watcher falls behind or the feed stops."""
        watcher = _Watcher(namespaces, asyncio.Queue(self._settings.queue_size))
        self._watchers.add(watcher)
        try:
            yield RESET
            while True:
                event = await watcher.queue.get()
                if event is _END:
                    return
                yield event
        finally:
            self._watchers.discard(watcher)

    def _deliver(self, event: Invalidation) -> None:
        for watcher in list(self._watchers):
            if event.kind in (Kind.KEYS, Kind.NAMESPACE) and event.namespace not in watcher.namespaces:
                continue
            try:
                watcher.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._end(watcher)
                logger.warning("an invalidation watcher fell behind; its stream is ended (it resets on reconnect)")

    def _end(self, watcher: _Watcher) -> None:
        self._watchers.discard(watcher)
        while not watcher.queue.empty():
            watcher.queue.get_nowait()
        watcher.queue.put_nowait(_END)

    @property
    def watchers(self) -> int:
        """Open streams."""
        return len(self._watchers)

    # --- the store side ---------------------------------------------------------------
    async def follow_store(self) -> None:
        """Forward the store's channel to the watchers, resubscribing after a failure."""
        lost = False
        while self._running:
            try:
                async for message in self._store.invalidations():
                    if not self.subscribed:
                        self.subscribed = True
                        if lost:  # messages may have been published while nobody listened
                            self._deliver(RESET)
                            logger.info("invalidation channel subscribed again; watchers reset")
                    event = invalidations.parse(message)
                    if event is not None:
                        self._deliver(event)
            except Unavailable as exc:
                if self.subscribed:
                    logger.warning("invalidation channel lost: {}", exc.message)
            self.subscribed = False
            lost = True
            await self._sleep(self._settings.retry_seconds)

    async def publish_heartbeats(self) -> None:
        """Publish a heartbeat every ``heartbeat_seconds`` (failures are retried at the next beat)."""
        while self._running:
            with contextlib.suppress(Unavailable):
                await self._store.publish_heartbeat()
            await self._sleep(self._settings.heartbeat_seconds)

    def start(self) -> None:
        """Start following the store and publishing heartbeats."""
        self._running = True
        self._tasks = [
            asyncio.create_task(self.follow_store(), name="invalidation-feed"),
            asyncio.create_task(self.publish_heartbeats(), name="invalidation-heartbeats"),
        ]

    async def stop(self) -> None:
        """End every watcher's stream and stop the tasks."""
        # A cancellation that the Redis client turns into a connection error would otherwise be
        # taken for a broken subscription, and retried: the flag ends the loops in any case.
        self._running = False
        for watcher in list(self._watchers):
            self._end(watcher)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
