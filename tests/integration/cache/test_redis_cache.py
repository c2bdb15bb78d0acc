"""The cache service's use cases against a real redis-server: expiry, jitter,
O(1) invalidation, LRU eviction, stampede protection, leases, statistics."""

from __future__ import annotations

import asyncio

import pytest
from afirgen_cache.bootstrap import CacheContainer, build
from afirgen_cache.domain.namespaces import Namespace
from afirgen_runtime.errors import InvalidArgument, Unavailable

from tests.integration.cache.conftest import RedisProcess, cache_settings, unique_namespace

pytestmark = pytest.mark.integration


async def test_entries_expire_after_their_ttl(cache: CacheContainer, ns: str) -> None:
    svc = cache.service
    assert await svc.set(ns, "short", b"v", ttl=0.3)
    assert await svc.set(ns, "long", b"v", ttl=30)
    assert (await svc.get(ns, "short")).found
    await asyncio.sleep(0.45)
    assert not (await svc.get(ns, "short")).found
    assert (await svc.get(ns, "long")).found


async def test_ttl_jitter_spreads_expiry_below_the_requested_ttl(redis_server: RedisProcess, ns: str) -> None:
    container = build(cache_settings(redis_server.port, {ns: "100"}, ttl_jitter=0.2))
    try:
        await container.service.batch_set(ns, {f"k{i}": b"v" for i in range(200)})
        space = Namespace(ns, 100)
        version = (await container.store.read(space, ["k0"])).version
        raw = redis_server.client()
        ttls = [raw.pttl(space.data_key(version, f"k{i}")) for i in range(200)]
    finally:
        await container.store.close()
    assert min(ttls) >= 79_000 and max(ttls) <= 100_000
    assert max(ttls) - min(ttls) > 10_000  # spread, not a single expiry instant
    assert len(set(ttls)) > 150


async def test_invalidating_a_namespace_is_o1_and_leaves_other_namespaces_alone(
    redis_server: RedisProcess,
) -> None:
    a, b = unique_namespace(), unique_namespace()
    container = build(cache_settings(redis_server.port, {a: "60", b: "60"}))
    svc = container.service
    try:
        await svc.batch_set(a, {f"k{i}": b"v" for i in range(100)})
        await svc.set(b, "k0", b"kept")
        before = (await container.store.read(Namespace(a, 60), ["k0"])).version
        keys_before = redis_server.client().dbsize()
        new_version = await svc.invalidate(a)
        assert new_version > before
        found, _ = await svc.batch_get(a, [f"k{i}" for i in range(100)])
        assert found == {}
        assert (await svc.get(b, "k0")).value == b"kept"
        # nothing was deleted: old entries are only unreachable, and expire or get evicted
        assert redis_server.client().dbsize() == keys_before
        assert redis_server.client().exists(Namespace(a, 60).data_key(before, "k0"))
        assert svc.stats.of(a).invalidations == 1
    finally:
        await container.store.close()


async def test_a_lost_version_key_never_brings_old_entries_back(
    redis_server: RedisProcess, cache: CacheContainer, ns: str
) -> None:
    """allkeys-lru may evict the version key itself (or Redis restarts without it)."""
    svc = cache.service
    await svc.set(ns, "k", b"v0")
    await svc.invalidate(ns)
    await svc.set(ns, "k", b"v1")
    redis_server.client().delete(Namespace(ns, 60).version_key)  # as if evicted
    assert not (await svc.get(ns, "k")).found  # neither v1 nor the older v0


async def test_lru_evicts_cold_keys_under_maxmemory_and_counts_evictions(own_redis: RedisProcess) -> None:
    ns = unique_namespace()
    own_redis.client().config_set("maxmemory", "3mb")
    own_redis.client().config_set("maxmemory-samples", "10")
    container = build(cache_settings(own_redis.port, {ns: "600"}))
    svc = container.service
    space = Namespace(ns, 600)
    try:
        assert await svc.check_memory_policy()
        await svc.set(ns, "hot", b"h" * 1000)
        version = (await container.store.read(space, ["hot"])).version
        for i in range(180):  # ~1.8 MB: fits
            await svc.set(ns, f"old{i}", bytes(10_000))
        assert (await svc.report()).server.evicted_keys == 0
        await asyncio.sleep(1.2)  # Redis's LRU clock ticks once a second
        for i in range(150):  # ~1.5 MB more: over the limit
            await svc.set(ns, f"new{i}", bytes(10_000))
            assert (await svc.get(ns, "hot")).found  # touched all the time: never the LRU
        report = await svc.report()
        assert report.server.evicted_keys > 20
        assert report.server.used_memory_bytes <= 3.3 * 1024 * 1024
        assert report.server.eviction_policy == "allkeys-lru" and report.eviction_policy_ok
        old, _ = await svc.batch_get(ns, [f"old{i}" for i in range(180)])
        new, _ = await svc.batch_get(ns, [f"new{i}" for i in range(150)])
        assert len(old) < 180 - 20 and len(new) == 150  # the least recently used went
        assert (await container.store.read(space, ["hot"])).version == version  # hot version key kept
    finally:
        await container.store.close()


async def test_a_hundred_concurrent_misses_cause_one_load(cache: CacheContainer, ns: str) -> None:
    """Each caller acts like a separate process: only the Redis fill lock coordinates them."""
    svc = cache.service
    loads = 0

    async def load() -> bytes:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)  # a database query
        return b"computed"

    async def caller() -> bytes:
        found = await svc.get(ns, "hot", max_wait=2.0)
        if found.found:
            return found.value
        value = await load()
        if found.should_refresh:
            await svc.set(ns, "hot", value, lease=found.lease, compute_time=0.05)
        return value

    values = await asyncio.gather(*(caller() for _ in range(100)))
    assert values == [b"computed"] * 100
    assert loads == 1
    counters = svc.stats.of(ns)
    assert counters.misses == 1 and counters.hits == 99 and counters.fill_waits == 99


async def test_a_dead_filler_hands_the_lock_on_after_it_expires(
    redis_server: RedisProcess, cache: CacheContainer, ns: str
) -> None:
    svc = cache.service
    first = await svc.get(ns, "k")
    assert first.should_refresh  # this filler never comes back

    async def expire_soon() -> None:  # what Redis does when the lock's PX runs out
        await asyncio.sleep(0.1)
        redis_server.client().delete(Namespace(ns, 60).lock_key((await svc_version()), "k"))

    async def svc_version() -> int:
        return (await cache.store.read(Namespace(ns, 60), ["other"])).version

    expiry = asyncio.create_task(expire_soon())
    waiting = await asyncio.gather(*(svc.get(ns, "k", max_wait=2.0) for _ in range(10)))
    await expiry
    assert not any(w.found for w in waiting)
    assert sum(w.should_refresh for w in waiting) == 1  # exactly one takes over


async def test_early_refresh_goes_to_exactly_one_caller(redis_server: RedisProcess, ns: str) -> None:
    container = build(cache_settings(redis_server.port, {ns: "60"}), rand=lambda: 0.5)
    try:
        svc = container.service
        await svc.set(ns, "slow", b"v", ttl=5, compute_time=20)  # expensive, expiring soon
        await svc.set(ns, "cheap", b"v", ttl=5, compute_time=0.001)
        slow = await asyncio.gather(*(svc.get(ns, "slow") for _ in range(20)))
        cheap = await asyncio.gather(*(svc.get(ns, "cheap") for _ in range(20)))
        assert all(r.found for r in slow + cheap)
        assert sum(r.should_refresh for r in slow) == 1
        assert sum(r.should_refresh for r in cheap) == 0
        assert svc.stats.of(ns).early_refreshes == 1
    finally:
        await container.store.close()


async def test_leases_refuse_fills_older_than_a_write(redis_server: RedisProcess, ns: str) -> None:
    container = build(cache_settings(redis_server.port, {ns: "60"}, lease_seconds=0.5))
    svc = container.service
    try:
        before_delete = await svc.get(ns, "k")
        assert await svc.delete(ns, ["k"]) == 0
        assert not await svc.set(ns, "k", b"stale", lease=before_delete.lease)
        after_delete = await svc.get(ns, "k")
        assert after_delete.lease > before_delete.lease
        assert await svc.set(ns, "k", b"fresh", lease=after_delete.lease)
        assert (await svc.get(ns, "k")).value == b"fresh"

        before_invalidation = await svc.get(ns, "j")
        await svc.invalidate(ns)
        assert not await svc.set(ns, "j", b"stale", lease=before_invalidation.lease)
        assert not (await svc.get(ns, "k")).found

        old = await svc.get(ns, "i")
        await asyncio.sleep(0.6)  # older than lease_seconds
        assert not await svc.set(ns, "i", b"late", lease=old.lease)
        assert await svc.delete(ns, ["k", "i"]) == 0
        assert svc.stats.of(ns).stale_sets == 3
    finally:
        await container.store.close()


async def test_statistics_count_every_operation(cache: CacheContainer, ns: str) -> None:
    svc = cache.service
    await svc.get(ns, "a")
    await svc.set(ns, "a", b"1")
    await svc.get(ns, "a")
    await svc.get(ns, "a")
    await svc.batch_get(ns, ["a", "b"])
    await svc.delete(ns, ["a"])
    await svc.invalidate(ns)
    with pytest.raises(InvalidArgument):
        await svc.set(ns, "", b"x")
    report = await svc.report()
    ((space, counters),) = report.namespaces
    assert space.name == ns and space.default_ttl == 60
    assert (counters.hits, counters.misses, counters.sets) == (3, 2, 1)
    assert counters.hit_ratio == pytest.approx(0.6)
    assert (counters.deletes, counters.invalidations, counters.errors) == (1, 1, 0)
    assert report.server.max_memory_bytes == 64 * 1024 * 1024 and report.server.keys > 0
    assert report.server.version.startswith("7.")


async def test_redis_down_is_unavailable_and_counted_then_recovers(own_redis: RedisProcess) -> None:
    ns = unique_namespace()
    container = build(cache_settings(own_redis.port, {ns: "60"}))
    svc = container.service
    try:
        await svc.set(ns, "k", b"v")
        own_redis.stop()
        with pytest.raises(Unavailable):
            await svc.get(ns, "k")
        with pytest.raises(Unavailable):
            await svc.set(ns, "k", b"v")
        with pytest.raises(Unavailable):  # readiness: the server reports NOT_SERVING
            await container.app.readiness()
        report = await svc.report()
        assert svc.stats.of(ns).errors == 2 and not report.eviction_policy_ok
        own_redis.start()  # same port, empty: the pool reconnects by itself
        assert not (await svc.get(ns, "k")).found
        assert await svc.set(ns, "k", b"again")
        assert (await svc.get(ns, "k")).value == b"again"
    finally:
        await container.store.close()


async def test_a_delete_releases_the_fill_lock_so_a_waiter_fills_at_once(redis_server: RedisProcess, ns: str) -> None:
    container = build(cache_settings(redis_server.port, {ns: "60"}, fill_lock_seconds=30))
    try:
        svc = container.service
        assert (await svc.get(ns, "k")).should_refresh  # holds the lock, will find nothing to store

        async def release_soon() -> None:
            await asyncio.sleep(0.05)
            await svc.delete(ns, ["k"])

        releaser = asyncio.create_task(release_soon())
        waiting = await svc.get(ns, "k", max_wait=1.0)
        await releaser
        # Took over the released lock within its wait (the first holder's lock has 30 s to run).
        assert (waiting.found, waiting.should_refresh) == (False, True)
    finally:
        await container.store.close()
