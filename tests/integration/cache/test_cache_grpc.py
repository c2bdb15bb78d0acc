"""The cache service over gRPC with the shared client, against a real Redis:
bad input, statistics, stampedes across processes, a dead or slow cache."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from afirgen.cache.v1 import cache_pb2, cache_pb2_grpc
from afirgen_runtime.cache_client import CacheClient, CacheClientSettings
from afirgen_runtime.errors import InvalidArgument
from afirgen_runtime.grpc_errors import from_rpc_error
from google.protobuf import duration_pb2
from prometheus_client import REGISTRY, generate_latest

from scripts.devstack.config import free_port
from tests.integration.cache.conftest import RedisProcess, cache_settings, serve, unique_namespace
from tests.waiting import until

pytestmark = pytest.mark.integration


def client_for(port: int, **overrides: object) -> CacheClient:
    """A client; its deadline is generous unless a test is about deadlines (the machine may be busy)."""
    settings = CacheClientSettings(target=f"127.0.0.1:{port}", **{"timeout_seconds": 1.0, **overrides})  # type: ignore[arg-type]
    return CacheClient(settings)


async def test_bad_input_is_invalid_argument_with_field_violations(redis_server: RedisProcess) -> None:
    ns = unique_namespace()
    running, _ = await serve(cache_settings(redis_server.port, {ns: "60"}, max_key_bytes=32, max_value_bytes=64))
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    stub = cache_pb2_grpc.CacheServiceStub(channel)
    cases = [
        (stub.GetEntry(cache_pb2.GetEntryRequest(namespace=ns, key="")), "key", "INVALID_ARGUMENT"),
        (stub.GetEntry(cache_pb2.GetEntryRequest(namespace=ns, key="k" * 33)), "key", "INVALID_ARGUMENT"),
        (stub.GetEntry(cache_pb2.GetEntryRequest(namespace="nope", key="k")), "namespace", "UNKNOWN_NAMESPACE"),
        (stub.SetEntry(cache_pb2.SetEntryRequest(namespace=ns, key="k", value=bytes(65))), "value", "INVALID_ARGUMENT"),
        (
            stub.SetEntry(
                cache_pb2.SetEntryRequest(namespace=ns, key="k", value=b"v", ttl=duration_pb2.Duration(seconds=-5))
            ),
            "ttl",
            "INVALID_ARGUMENT",
        ),
        (stub.DeleteEntries(cache_pb2.DeleteEntriesRequest(namespace=ns)), "keys", "INVALID_ARGUMENT"),
        (stub.InvalidateNamespace(cache_pb2.InvalidateNamespaceRequest(namespace="")), "namespace", "INVALID_ARGUMENT"),
    ]
    try:
        for call, field, reason in cases:
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await call
            assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            error = from_rpc_error(failed.value)
            assert isinstance(error, InvalidArgument) and error.reason == reason
            assert field in [v.field for v in error.violations]
    finally:
        await channel.close()
        await running.stop()


async def test_stats_over_grpc_report_namespaces_memory_and_policy(redis_server: RedisProcess) -> None:
    ns = unique_namespace()
    running, _ = await serve(cache_settings(redis_server.port, {ns: "45"}))
    client = client_for(running.port)
    try:

        async def loader() -> bytes:
            return b"v"

        for _ in range(4):
            await client.get_or_load(ns, "k", loader)
            await client.flush()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        stats = await cache_pb2_grpc.CacheServiceStub(channel).GetCacheStats(cache_pb2.GetCacheStatsRequest())
        await channel.close()
        (space,) = stats.namespaces
        assert (space.namespace, space.hits, space.misses, space.sets) == (ns, 3, 1, 1)
        assert space.hit_ratio == pytest.approx(0.75) and space.default_ttl.seconds == 45
        assert stats.eviction_policy == "allkeys-lru" and stats.eviction_policy_ok
        assert stats.max_memory_bytes == 64 * 1024 * 1024 and stats.used_memory_bytes > 0
        assert stats.redis_version.startswith("7.")
        exported = generate_latest(REGISTRY).decode()  # what /metrics serves
        assert f'afirgen_cache_hits_total{{namespace="{ns}"}} 3.0' in exported
        assert f'afirgen_cache_misses_total{{namespace="{ns}"}} 1.0' in exported
        assert f'afirgen_cache_client_events_total{{event="hits",namespace="{ns}"}} 3.0' in exported
        assert "afirgen_cache_eviction_policy_ok 1.0" in exported
    finally:
        await client.close()
        await running.stop()


async def test_concurrent_misses_in_several_processes_cause_one_load(redis_server: RedisProcess) -> None:
    """Four clients (as four replicas of a service) with 25 concurrent readers each."""
    ns = unique_namespace()
    running, _ = await serve(cache_settings(redis_server.port, {ns: "60"}))
    clients = [client_for(running.port, fill_wait_seconds=1.0) for _ in range(4)]
    loads = 0

    async def loader() -> bytes:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)
        return b"computed once"

    try:
        values = await asyncio.gather(*(c.get_or_load(ns, "hot", loader) for c in clients for _ in range(25)))
        assert values == [b"computed once"] * 100
        assert loads == 1
        assert sum(c.counters["coalesced"] for c in clients) == 96
    finally:
        for c in clients:
            await c.close()
        await running.stop()


async def test_a_dead_cache_is_skipped_and_the_circuit_closes_when_it_is_back(
    redis_server: RedisProcess,
) -> None:
    ns = unique_namespace()
    port = free_port()  # nothing listens here yet
    threshold, recovery = 3, 0.5
    client = client_for(port, failure_threshold=threshold, recovery_seconds=recovery)
    loads = 0

    async def loader() -> bytes:
        nonlocal loads
        loads += 1
        return b"from the database"

    running = None
    try:
        started = time.monotonic()
        for i in range(200):
            assert await client.get_or_load(ns, f"k{i}", loader) == b"from the database"
        window = time.monotonic() - started
        # Every read was served; the cache was tried until the circuit opened, then once per
        # recovery period (a probe that failed), and skipped otherwise.
        tried, skipped = client.counters["errors"], client.counters["short_circuits"]
        assert (loads, client.counters["circuit_opened"], tried + skipped) == (200, 1, 200)
        assert tried <= threshold + 1 + window / recovery, (tried, window)

        running, _ = await serve(cache_settings(redis_server.port, {ns: "60"}), port=port)

        async def probe() -> str:
            await client.get_or_load(ns, "probe", loader)
            return client.circuit_state

        await until(probe, lambda state: state == "closed", within=10, every=0.1, what="the circuit to close")
        await client.get_or_load(ns, "again", loader)
        await client.flush()
        hits = client.counters["hits"]
        assert await client.get_or_load(ns, "again", loader) == b"from the database"
        assert client.counters["hits"] == hits + 1
    finally:
        await client.close()
        if running is not None:
            await running.stop()


async def test_a_slow_cache_is_a_miss_within_the_deadline(own_redis: RedisProcess) -> None:
    ns = unique_namespace()
    running, _ = await serve(cache_settings(own_redis.port, {ns: "60"}))
    # The value is stored with a generous deadline (a busy machine may take more than 50 ms);
    # only the reads under test have the tight one.
    setup, client = client_for(running.port), client_for(running.port, timeout_seconds=0.05)

    async def loader() -> bytes:
        return b"fresh"

    try:
        await setup.get_or_load(ns, "k", loader)
        await setup.flush()
        assert await setup.get(ns, "k") == b"fresh"
        own_redis.client().execute_command("CLIENT", "PAUSE", "1000", "ALL")  # Redis stalls for a second
        # Each call is cut at its 50 ms deadline: a miss (an error), not the cached value a second later.
        got = (await client.get(ns, "k"), await client.get_or_load(ns, "k", loader), client.counters["errors"])
        assert got == (None, b"fresh", 2)
    finally:
        await setup.close()
        await client.close()
        await asyncio.sleep(1.0)  # Redis's pause runs out: the server then drains without waiting on it
        await running.stop()


async def test_an_invalidation_lost_while_the_cache_was_away_is_paid_before_any_read(
    redis_server: RedisProcess,
) -> None:
    """The cache service goes away (Redis keeps the entry), a write happens, the
    service comes back: the stale entry must never be served."""
    ns = unique_namespace()
    settings = cache_settings(redis_server.port, {ns: "60"})
    running, _ = await serve(settings)
    port = running.port
    client = client_for(port, failure_threshold=100, recovery_seconds=0.1)

    async def old() -> bytes:
        return b"before the write"

    async def new() -> bytes:
        return b"after the write"

    try:
        assert await client.get_or_load(ns, "fir-1", old) == b"before the write"
        await client.flush()
        assert await client.get(ns, "fir-1") == b"before the write"  # cached
        await running.stop()
        await client.delete(ns, "fir-1")  # lost: the service is down
        assert client.counters["lost_invalidations"] == 1
        assert await client.get_or_load(ns, "fir-1", new) == b"after the write"  # bypassed
        running, _ = await serve(settings, port=port)

        async def read() -> int:
            value = await client.get_or_load(ns, "fir-1", new)
            assert value == b"after the write"  # never the stale entry, at any point
            return client.counters["hits"]

        # the cache serves again, fresh values only
        await until(read, within=10, every=0.1, what="a cache hit")
    finally:
        await client.close()
        await running.stop()


async def test_nothing_to_cache_does_not_make_the_next_reader_wait(redis_server: RedisProcess) -> None:
    """A not-found FIR: the reader that held the fill lock releases it."""
    ns = unique_namespace()
    running, container = await serve(cache_settings(redis_server.port, {ns: "60"}, fill_lock_seconds=30))
    client = client_for(running.port, fill_wait_seconds=1.0)

    async def not_found() -> None:
        return None

    try:
        assert await client.get_or_load(ns, "absent", not_found) is None
        await client.flush()
        assert await client.get_or_load(ns, "absent", not_found) is None
        # The second reader took the lock itself: it did not wait for a fill that never comes.
        assert (client.counters["loads"], container.service.stats.of(ns).fill_waits) == (2, 0)
    finally:
        await client.close()
        await running.stop()
