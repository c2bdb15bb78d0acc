"""The near cache in front of the cache service: bounded, immutable entries always served,
mutable ones only within the staleness bound of its invalidation feed, and never filled
with a value read before an invalidation. The cache client applies the feed to it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from afirgen.cache.v1 import cache_pb2
from afirgen_runtime.cache_client import CacheClient, CacheClientSettings
from afirgen_runtime.near_cache import NearCache, NearCacheSettings

from tests.waiting import until

STALENESS = 1.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def live_cache(clock: FakeClock, entries: int = 8) -> NearCache[str]:
    near: NearCache[str] = NearCache("fir", NearCacheSettings(entries, STALENESS), clock=clock)
    near.connected()
    near.reset()
    near.heard()
    return near


def test_a_mutable_entry_is_served_while_the_feed_was_heard_within_the_bound(clock: FakeClock) -> None:
    near = live_cache(clock)
    near.put("a", "draft", near.epoch)
    clock.now += STALENESS
    assert near.get("a") == "draft"


def test_a_mutable_entry_is_not_served_once_the_feed_is_silent_beyond_the_bound(clock: FakeClock) -> None:
    near = live_cache(clock)
    near.put("a", "draft", near.epoch)
    clock.now += STALENESS + 0.001
    assert near.get("a") is None


def test_a_mutable_entry_is_not_served_while_the_feed_is_disconnected(clock: FakeClock) -> None:
    near = live_cache(clock)
    near.put("a", "draft", near.epoch)
    near.disconnected()
    assert near.get("a") is None


def test_an_immutable_entry_is_served_without_a_feed(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache("fir", NearCacheSettings(8, STALENESS), clock=clock)
    near.put("a", "finalized", near.epoch, immutable=True)
    assert near.get("a") == "finalized"


def test_a_reset_drops_mutable_entries_and_keeps_immutable_ones(clock: FakeClock) -> None:
    near = live_cache(clock)
    near.put("draft", "d", near.epoch)
    near.put("final", "f", near.epoch, immutable=True)
    near.reset()
    assert (near.get("draft"), near.get("final")) == (None, "f")


def test_a_value_read_before_an_invalidation_is_not_kept(clock: FakeClock) -> None:
    near = live_cache(clock)
    epoch = near.epoch  # a read begins
    near.drop("a")  # a write's invalidation arrives meanwhile
    assert near.put("a", "old", epoch) is False


def test_a_namespace_invalidation_drops_immutable_entries_too(clock: FakeClock) -> None:
    near = live_cache(clock)
    near.put("final", "f", near.epoch, immutable=True)
    near.apply((), whole_namespace=True)
    assert near.get("final") is None


def test_the_least_recently_used_entry_goes_first_beyond_the_bound(clock: FakeClock) -> None:
    near = live_cache(clock, entries=2)
    near.put("a", "1", near.epoch)
    near.put("b", "2", near.epoch)
    near.get("a")
    near.put("c", "3", near.epoch)
    assert (near.get("a"), near.get("b"), near.get("c"), len(near)) == ("1", None, "3", 2)


class FeedStub:
    """WatchInvalidations over a queue of events; ``None`` ends the stream."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[cache_pb2.InvalidationEvent | None] = asyncio.Queue()
        self.opened = 0

    def WatchInvalidations(self, request: Any, **_: Any) -> Any:
        self.opened += 1

        async def stream() -> Any:
            while (event := await self.events.get()) is not None:
                yield event

        return stream()


Kind = cache_pb2.InvalidationEvent


async def test_the_client_applies_deletes_of_the_feed_to_the_near_cache() -> None:
    stub = FeedStub()
    near: NearCache[str] = NearCache("fir", NearCacheSettings(8, 30.0))
    follow = asyncio.create_task(CacheClient(CacheClientSettings(target="fake"), stub=stub).follow([near]))
    try:
        stub.events.put_nowait(Kind(kind=Kind.KIND_RESET))
        await until(lambda: near.live)
        near.put("a", "draft", near.epoch)
        stub.events.put_nowait(Kind(kind=Kind.KIND_KEYS, namespace="fir", keys=["a"]))
        await until(lambda: near.get("a") is None)
    finally:
        follow.cancel()


async def test_the_client_stops_serving_drafts_when_the_feed_ends_and_reconnects() -> None:
    stub = FeedStub()
    near: NearCache[str] = NearCache("fir", NearCacheSettings(8, 30.0))
    client = CacheClient(CacheClientSettings(target="fake"), stub=stub)
    follow = asyncio.create_task(client.follow([near], retry_seconds=0.01))
    try:
        stub.events.put_nowait(Kind(kind=Kind.KIND_RESET))
        await until(lambda: near.live)
        stub.events.put_nowait(None)
        await until(lambda: stub.opened == 2 and not near.live)
    finally:
        follow.cancel()
