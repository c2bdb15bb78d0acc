"""The cache service's invalidation feed over a fake store: each watch starts with a reset,
carries only its namespaces' events (and heartbeats), resets watchers after the store
subscription came back, and ends a watcher that falls behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from afirgen_cache.domain import invalidations
from afirgen_cache.domain.invalidations import HEARTBEAT, RESET, Invalidation, Kind
from afirgen_cache.service_layer.invalidation_feed import FeedSettings, InvalidationFeed
from afirgen_runtime.errors import Unavailable

from tests.waiting import until


class ChannelStore:
    """The invalidation channel of a store: messages put on ``messages``; ``None`` breaks it."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[str | None] = asyncio.Queue()
        self.subscriptions = 0
        self.heartbeats = 0

    async def invalidations(self) -> AsyncIterator[bytes]:
        self.subscriptions += 1
        while (message := await self.messages.get()) is not None:
            yield message.encode()
        raise Unavailable("subscription lost")

    async def publish_heartbeat(self) -> None:
        self.heartbeats += 1
        await asyncio.sleep(0)


async def first(stream: AsyncIterator[Invalidation], count: int) -> list[Invalidation]:
    return [await anext(stream) for _ in range(count)]


def test_messages_round_trip() -> None:
    events = [
        invalidations.parse(invalidations.keys_message("fir", ["a", "b"])),
        invalidations.parse(invalidations.namespace_message("fir_list")),
        invalidations.parse(invalidations.heartbeat_message()),
        invalidations.parse(b"?junk"),
    ]
    assert events == [
        Invalidation(Kind.KEYS, "fir", ("a", "b")),
        Invalidation(Kind.NAMESPACE, "fir_list"),
        HEARTBEAT,
        None,
    ]


async def test_a_watch_starts_with_a_reset_and_carries_only_its_namespaces() -> None:
    store = ChannelStore()
    feed = InvalidationFeed(store, FeedSettings())  # type: ignore[arg-type]
    follower = asyncio.create_task(feed.follow_store())
    try:
        stream = feed.watch(frozenset({"fir"}))
        head = await anext(stream)
        for message in (
            invalidations.keys_message("fir_list", ["x"]),
            invalidations.keys_message("fir", ["a"]),
            invalidations.heartbeat_message(),
        ):
            store.messages.put_nowait(message)
        assert [head, *await first(stream, 2)] == [RESET, Invalidation(Kind.KEYS, "fir", ("a",)), HEARTBEAT]
    finally:
        follower.cancel()


async def test_watchers_are_reset_when_the_store_subscription_comes_back() -> None:
    store = ChannelStore()
    feed = InvalidationFeed(store, FeedSettings(retry_seconds=0.01))  # type: ignore[arg-type]
    follower = asyncio.create_task(feed.follow_store())
    try:
        stream = feed.watch(frozenset({"fir"}))
        await anext(stream)
        store.messages.put_nowait(invalidations.heartbeat_message())
        await anext(stream)
        store.messages.put_nowait(None)  # the subscription breaks; messages published now are lost
        await until(lambda: store.subscriptions == 2)
        store.messages.put_nowait(invalidations.keys_message("fir", ["a"]))
        assert await first(stream, 2) == [RESET, Invalidation(Kind.KEYS, "fir", ("a",))]
    finally:
        follower.cancel()


async def test_a_watcher_that_falls_behind_is_ended() -> None:
    store = ChannelStore()
    feed = InvalidationFeed(store, FeedSettings(queue_size=2))  # type: ignore[arg-type]
    follower = asyncio.create_task(feed.follow_store())
    try:
        stream = feed.watch(frozenset({"fir"}))
        await anext(stream)
        for _ in range(3):
            store.messages.put_nowait(invalidations.heartbeat_message())
        await until(lambda: feed.watchers == 0)
        assert [event async for event in stream] == []
    finally:
        follower.cancel()


async def test_heartbeats_are_published_every_period() -> None:
    store = ChannelStore()
    feed = InvalidationFeed(store, FeedSettings(heartbeat_seconds=0.01))  # type: ignore[arg-type]
    feed.start()
    try:
        await until(lambda: store.heartbeats >= 3)
    finally:
        await feed.stop()


class SwallowingStore(ChannelStore):
    """A store whose client turns a cancellation into a connection error (as redis-py can)."""

    async def invalidations(self) -> AsyncIterator[bytes]:
        self.subscriptions += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise Unavailable("connection closed") from None
        yield b""  # pragma: no cover - never reached


async def test_stopping_ends_the_feed_even_when_the_store_swallows_the_cancellation() -> None:
    store = SwallowingStore()
    feed = InvalidationFeed(store, FeedSettings(retry_seconds=0.01, heartbeat_seconds=0.01))  # type: ignore[arg-type]
    feed.start()
    await until(lambda: store.subscriptions == 1)
    await asyncio.wait_for(feed.stop(), timeout=10)
    assert store.subscriptions == 1
