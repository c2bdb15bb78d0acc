"""The near cache in front of the cache service: bounded, immutable entries always served,
mutable ones only within the staleness bound of its invalidation feed, and never filled
with a value read before an invalidation. The cache client applies the feed to it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from afirgen.cache.v1 import cache_pb2
from afirgen_runtime.cache_client import CacheClient, CacheClientSettings
from afirgen_runtime.near_cache import ENTRY_OVERHEAD_BYTES, NearCache, NearCacheSettings
from prometheus_client import REGISTRY

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


def sized_cache(clock: FakeClock, max_bytes: int) -> NearCache[str]:
    """A live near cache of many entries bounded by ``max_bytes``."""
    near: NearCache[str] = NearCache("fir", NearCacheSettings(1000, STALENESS, max_bytes), clock=clock)
    near.connected()
    near.heard()
    return near


def test_the_least_recently_used_entries_go_first_beyond_the_byte_bound(clock: FakeClock) -> None:
    near = sized_cache(clock, max_bytes=2 * (1000 + ENTRY_OVERHEAD_BYTES))
    near.put("a", "1", near.epoch, size=1000)
    near.put("b", "2", near.epoch, size=1000)
    near.get("a")
    near.put("c", "3", near.epoch, size=1000)
    assert (near.get("a"), near.get("b"), near.get("c")) == ("1", None, "3")


def test_a_large_value_pushes_out_as_many_entries_as_its_bytes_need(clock: FakeClock) -> None:
    near = sized_cache(clock, max_bytes=10_000)
    for key in "abcd":
        near.put(key, key, near.epoch, size=1000)
    near.put("large", "L", near.epoch, size=6000)
    assert [key for key in "abcd" if near.get(key) is not None] == ["c", "d"]


def test_a_value_larger_than_the_byte_bound_is_not_kept(clock: FakeClock) -> None:
    near = sized_cache(clock, max_bytes=10_000)
    near.put("small", "s", near.epoch, size=100)
    assert (near.put("huge", "h", near.epoch, size=10_000), near.get("small")) == (False, "s")


def test_a_newer_value_too_large_to_keep_drops_the_older_one(clock: FakeClock) -> None:
    near = sized_cache(clock, max_bytes=10_000)
    near.put("a", "old", near.epoch, size=100)
    near.put("a", "new", near.epoch, size=10_000)
    assert near.get("a") is None


def test_a_value_kept_again_under_its_key_counts_its_bytes_once(clock: FakeClock) -> None:
    near = sized_cache(clock, max_bytes=1 << 20)
    near.put("a", "old", near.epoch, size=5000)
    near.put("a", "new", near.epoch, size=3000)
    assert near.bytes == 3000 + ENTRY_OVERHEAD_BYTES


def test_entries_dropped_by_a_reset_give_back_their_bytes(clock: FakeClock) -> None:
    near = sized_cache(clock, max_bytes=1 << 20)
    near.put("draft", "d", near.epoch, size=5000)
    near.put("final", "f", near.epoch, immutable=True, size=700)
    near.reset()
    assert near.bytes == 700 + ENTRY_OVERHEAD_BYTES


def test_the_bytes_a_near_cache_holds_are_a_metric(clock: FakeClock) -> None:
    near: NearCache[str] = NearCache("metric_probe", NearCacheSettings(8, STALENESS), clock=clock)
    near.put("a", "f", near.epoch, immutable=True, size=1234)
    near.put("b", "f", near.epoch, immutable=True, size=66)
    near.drop("b")
    held = REGISTRY.get_sample_value("afirgen_near_cache_bytes", {"namespace": "metric_probe"})
    assert held == 1234 + ENTRY_OVERHEAD_BYTES


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
