"""Cache use cases through the real composition root, with an in-memory store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from itertools import count

import pytest
from afirgen_cache.bootstrap import build
from afirgen_cache.domain.namespaces import Namespace
from afirgen_cache.service_layer.cache_service import CacheService
from afirgen_cache.service_layer.ports import ServerInfo, Slot, Snapshot, Write
from afirgen_cache.settings import CacheSettings
from afirgen_runtime.errors import InvalidArgument, Unavailable


class FakeStore:
    """The Redis store's contract in a dict: versions, leases, tombstones, locks.
    Time is a counter that advances on every call; nothing expires."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}
        self.ttls: dict[str, int] = {}
        self.tombstones: dict[str, int] = {}
        self.locks: set[str] = set()
        self.versions: dict[str, int] = {}
        self.clock = count(1_000)
        self.down = False

    def _now(self) -> int:
        if self.down:
            raise Unavailable("store down")
        return next(self.clock)

    def _version(self, space: Namespace, now: int) -> int:
        return self.versions.setdefault(space.name, now - 1)

    async def read(self, space: Namespace, keys: Sequence[str], *, lock_ms: int = 0) -> Snapshot:
        now = self._now()
        version = self._version(space, now)
        slots = []
        for key in keys:
            dk = space.data_key(version, key)
            if dk in self.entries:
                slots.append(Slot(self.entries[dk], self.ttls[dk]))
                continue
            lk = space.lock_key(version, key)
            locked = bool(lock_ms) and lk not in self.locks
            if locked:
                self.locks.add(lk)
            slots.append(Slot(None, -2, locked))
        return Snapshot(version, now, slots)

    async def lock(self, space: Namespace, version: int, key: str, lock_ms: int) -> bool:
        self._now()
        lk = space.lock_key(version, key)
        taken = lk not in self.locks
        self.locks.add(lk)
        return taken

    async def write(self, space: Namespace, writes: Sequence[Write], *, lease: int, lease_ttl_us: int) -> list[bool]:
        now = self._now()
        version = self._version(space, now)
        fresh = not lease or (lease > version and now - lease <= lease_ttl_us)
        out = []
        for w in writes:
            dk = space.data_key(version, w.key)
            ok = fresh and not (lease and self.tombstones.get(dk, -1) >= lease)
            if ok:
                self.entries[dk], self.ttls[dk] = w.raw, w.ttl_ms
                self.tombstones.pop(dk, None)
            self.locks.discard(space.lock_key(version, w.key))
            out.append(ok)
        return out

    async def delete(self, space: Namespace, keys: Sequence[str], *, tombstone_ms: int) -> int:
        now = self._now()
        version = self._version(space, now)
        existed = 0
        for key in keys:
            dk = space.data_key(version, key)
            existed += self.entries.pop(dk, None) is not None
            self.tombstones[dk] = now
            self.locks.discard(space.lock_key(version, key))
        return existed

    async def invalidate(self, space: Namespace) -> int:
        now = self._now()
        self.versions[space.name] = max(now, self.versions.get(space.name, 0) + 1)
        return self.versions[space.name]

    async def info(self) -> ServerInfo:
        self._now()
        return ServerInfo(1000, 4096, "allkeys-lru", 3, 4, "7.0", len(self.entries))

    async def ping(self) -> bool:
        return not self.down

    async def close(self) -> None:
        return None


def make(store: FakeStore, rand: float = 0.5, **overrides: object) -> CacheService:
    settings = CacheSettings(namespaces={"fir": "60", "other": "5"}, **overrides)  # type: ignore[arg-type]
    return build(settings, store=store, rand=lambda: rand).service


async def test_miss_then_fill_then_hit_with_namespace_default_ttl_and_jitter() -> None:
    store = FakeStore()
    svc = make(store, rand=0.5, ttl_jitter=0.1)
    miss = await svc.get("fir", "k")
    assert not miss.found and miss.should_refresh  # the first reader fills
    assert await svc.set("fir", "k", b"v", lease=miss.lease)
    hit = await svc.get("fir", "k")
    assert hit.found and hit.value == b"v" and not hit.should_refresh
    (ttl,) = store.ttls.values()
    assert ttl == 57_000  # 60 s shortened by 0.5 * 10 %
    c = svc.stats.of("fir")
    assert (c.hits, c.misses, c.sets, c.hit_ratio) == (1, 1, 1, 0.5)


async def test_second_reader_of_a_missing_key_waits_for_the_fill() -> None:
    store = FakeStore()
    svc = make(store)
    first = await svc.get("fir", "k")
    assert first.should_refresh

    async def fill_later() -> None:
        await asyncio.sleep(0.02)
        await svc.set("fir", "k", b"filled", lease=first.lease)

    filler = asyncio.create_task(fill_later())
    second = await svc.get("fir", "k", max_wait=1.0)
    await filler
    assert second.found and second.value == b"filled" and not second.should_refresh
    assert svc.stats.of("fir").fill_waits == 1
    # without a wait the reader answers at once: a miss it must not fill
    third = await svc.get("fir", "other-key")
    fourth = await svc.get("fir", "other-key")
    assert third.should_refresh and not fourth.found and not fourth.should_refresh


async def test_leases_refuse_values_computed_before_a_delete_or_invalidation() -> None:
    store = FakeStore()
    svc = make(store)
    read = await svc.get("fir", "k")
    await svc.delete("fir", ["k"])
    assert not await svc.set("fir", "k", b"old", lease=read.lease)
    again = await svc.get("fir", "k")
    assert await svc.set("fir", "k", b"new", lease=again.lease)
    read = await svc.get("fir", "j")
    await svc.invalidate("fir")
    assert not await svc.set("fir", "j", b"old", lease=read.lease)
    assert (await svc.get("fir", "k")).found is False  # invalidated too
    assert await svc.set("fir", "k", b"forced")  # no lease: unconditional
    c = svc.stats.of("fir")
    assert (c.stale_sets, c.sets, c.deletes, c.invalidations) == (2, 2, 1, 1)


async def test_early_refresh_is_offered_to_one_caller_only() -> None:
    store = FakeStore()
    svc = make(store, rand=0.5)
    assert await svc.set("fir", "k", b"v", compute_time=100.0)  # expensive: XFetch fires
    offers = [(await svc.get("fir", "k")).should_refresh for _ in range(5)]
    assert offers == [True, False, False, False, False]
    assert svc.stats.of("fir").early_refreshes == 1


async def test_batches_count_hits_and_misses_per_key() -> None:
    svc = make(FakeStore())
    assert await svc.batch_set("other", {"a": b"1", "b": b"2"}) == 2
    found, lease = await svc.batch_get("other", ["a", "b", "c", "a"])
    assert found == {"a": b"1", "b": b"2"} and lease > 0
    c = svc.stats.of("other")
    assert (c.hits, c.misses, c.sets) == (2, 1, 2)


async def test_bad_input_is_refused_before_the_store_is_touched() -> None:
    store = FakeStore()
    store.down = True  # any store call would raise Unavailable instead
    svc = make(store, max_key_bytes=16, max_value_bytes=8, max_ttl_seconds=100)
    cases = [
        (svc.get("fir", ""), "key"),
        (svc.get("fir", "k" * 17), "key"),
        (svc.get("fir", "k", max_wait=-1), "max_wait"),
        (svc.set("fir", "k", b"123456789"), "value"),
        (svc.set("fir", "k", b"1", ttl=-1), "ttl"),
        (svc.set("fir", "k", b"1", ttl=101), "ttl"),
        (svc.set("fir", "k", b"1", lease=-5), "lease"),
        (svc.batch_get("fir", []), "keys"),
        (svc.delete("fir", ["ok", ""]), "keys[1]"),
        (svc.batch_set("fir", {"k": b"123456789"}), "values[k]"),
    ]
    for call, field in cases:
        with pytest.raises(InvalidArgument) as bad:
            await call
        assert field in [v.field for v in bad.value.violations]
    with pytest.raises(InvalidArgument) as unknown:
        await svc.invalidate("nope")
    assert unknown.value.reason == "UNKNOWN_NAMESPACE"


async def test_store_failures_are_counted_and_stats_still_answer() -> None:
    store = FakeStore()
    svc = make(store)
    store.down = True
    with pytest.raises(Unavailable):
        await svc.get("fir", "k")
    with pytest.raises(Unavailable):
        await svc.set("fir", "k", b"v")
    report = await svc.report()
    assert svc.stats.of("fir").errors == 2
    assert report.server.eviction_policy == "" and not report.eviction_policy_ok
    store.down = False
    report = await svc.report()
    assert report.eviction_policy_ok and [s.name for s, _ in report.namespaces] == ["fir", "other"]
    assert await svc.check_memory_policy()
