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


async def test_a_dead_cache_adds_no_latency_and_the_circuit_closes_when_it_is_back(
    redis_server: RedisProcess,
) -> None:
    ns = unique_namespace()
    port = free_port()  # nothing listens here yet
    client = client_for(port, failure_threshold=3, recovery_seconds=0.5)
    loads = 0

    async def loader() -> bytes:
        nonlocal loads
        loads += 1
        return b"from the database"

    running = None
    try:
        started = time.perf_counter()
        for i in range(200):
            assert await client.get_or_load(ns, f"k{i}", loader) == b"from the database"
        elapsed = time.perf_counter() - started
        assert loads == 200 and client.counters["circuit_opened"] == 1
        assert client.counters["short_circuits"] >= 190 and client.counters["errors"] <= 10
        assert elapsed < 1.0, elapsed  # 200 requests: only the first few tried the cache

        running, _ = await serve(cache_settings(redis_server.port, {ns: "60"}), port=port)
        deadline = time.monotonic() + 10
        while client.circuit_state != "closed" and time.monotonic() < deadline:
            await client.get_or_load(ns, "probe", loader)
            await asyncio.sleep(0.1)
        assert client.circuit_state == "closed"
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
    client = client_for(running.port, timeout_seconds=0.05)

    async def loader() -> bytes:
        return b"fresh"

    try:
        await client.get_or_load(ns, "k", loader)
        await client.flush()
        assert await client.get(ns, "k") == b"fresh"
        own_redis.client().execute_command("CLIENT", "PAUSE", "1000", "ALL")  # Redis stalls for a second
        started = time.perf_counter()
        assert await client.get(ns, "k") is None
        assert await client.get_or_load(ns, "k", loader) == b"fresh"
        elapsed = time.perf_counter() - started
        assert elapsed < 0.3, elapsed  # two calls, each cut at 50 ms
        assert client.counters["errors"] == 2
    finally:
        await client.close()
        await asyncio.sleep(1.0)  # let the pause end before the server drains
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
        deadline = time.monotonic() + 10
        value = b""
        while time.monotonic() < deadline:
            value = await client.get_or_load(ns, "fir-1", new) or b""
            assert value == b"after the write"  # never the stale entry, at any point
            if client.counters["hits"]:
                break
            await asyncio.sleep(0.1)
        assert client.counters["hits"] >= 1  # the cache serves again, fresh values only
    finally:
        await client.close()
        await running.stop()


async def test_nothing_to_cache_does_not_make_the_next_reader_wait(redis_server: RedisProcess) -> None:
    """A not-found FIR: the reader that held the fill lock releases it."""
    ns = unique_namespace()
    running, _ = await serve(cache_settings(redis_server.port, {ns: "60"}, fill_lock_seconds=30))
    client = client_for(running.port, fill_wait_seconds=1.0)

    async def not_found() -> None:
        return None

    try:
        assert await client.get_or_load(ns, "absent", not_found) is None
        await client.flush()
        started = time.perf_counter()
        assert await client.get_or_load(ns, "absent", not_found) is None
        assert time.perf_counter() - started < 0.5  # no wait for a fill that never comes
        assert client.counters["loads"] == 2
    finally:
        await client.close()
        await running.stop()
