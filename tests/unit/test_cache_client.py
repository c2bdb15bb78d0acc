"""The shared cache client with a fake stub: a cache failure is always a miss,
the circuit opens and closes, lost invalidations are paid before reads, and
concurrent misses in one process share one load."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from afirgen.cache.v1 import cache_pb2
from afirgen_runtime.cache_client import CacheClient, CacheClientSettings, Fill
from afirgen_runtime.errors import InvalidArgument

from tests.unit.fake_cache import InMemoryCache


class FakeStub:
    """The cache service's RPCs over a dict; ``failing`` makes every call fail."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], bytes] = {}
        self.ttls: dict[tuple[str, str], float] = {}
        self.calls: Counter[str] = Counter()
        self.failing: BaseException | None = None
        self.refuse_sets = False
        self.lease = 0

    def _enter(self, name: str) -> None:
        self.calls[name] += 1
        if self.failing is not None:
            raise self.failing

    async def GetEntry(self, request: Any, **_: Any) -> Any:
        self._enter("GetEntry")
        await asyncio.sleep(0)
        self.lease += 1
        value = self.entries.get((request.namespace, request.key))
        return cache_pb2.GetEntryResponse(
            found=value is not None, value=value or b"", should_refresh=value is None, lease=self.lease
        )

    async def SetEntry(self, request: Any, **_: Any) -> Any:
        self._enter("SetEntry")
        if self.refuse_sets:
            return cache_pb2.SetEntryResponse(stored=False)
        self.entries[(request.namespace, request.key)] = request.value
        self.ttls[(request.namespace, request.key)] = request.ttl.ToTimedelta().total_seconds()
        return cache_pb2.SetEntryResponse(stored=True)

    async def DeleteEntries(self, request: Any, **_: Any) -> Any:
        self._enter("DeleteEntries")
        for key in request.keys:
            self.entries.pop((request.namespace, key), None)
        return cache_pb2.DeleteEntriesResponse(deleted=len(request.keys))

    async def InvalidateNamespace(self, request: Any, **_: Any) -> Any:
        self._enter("InvalidateNamespace")
        for entry in [e for e in self.entries if e[0] == request.namespace]:
            del self.entries[entry]
        return cache_pb2.InvalidateNamespaceResponse(version=1)


SETTINGS = CacheClientSettings(target="fake", failure_threshold=3, recovery_seconds=0.2)


@pytest.fixture
def stub() -> FakeStub:
    return FakeStub()


@pytest.fixture
def client(stub: FakeStub) -> CacheClient:
    return CacheClient(SETTINGS, stub=stub)


async def test_concurrent_misses_in_one_process_share_one_load(client: CacheClient, stub: FakeStub) -> None:
    loads = 0

    async def loader() -> bytes:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.02)
        return b"value"

    results = await asyncio.gather(*(client.get_or_load("fir", "k", loader) for _ in range(50)))
    await client.flush()
    assert results == [b"value"] * 50 and loads == 1
    assert stub.calls["GetEntry"] == 1 and stub.calls["SetEntry"] == 1
    assert await client.get_or_load("fir", "k", loader) == b"value" and loads == 1  # now a hit
    assert client.counters["coalesced"] == 49 and client.counters["hits"] == 1


async def test_loader_errors_reach_every_waiter_and_nothing_is_cached(client: CacheClient, stub: FakeStub) -> None:
    async def broken() -> bytes:
        await asyncio.sleep(0.01)
        raise RuntimeError("database down")

    results = await asyncio.gather(*(client.get_or_load("fir", "k", broken) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert stub.entries == {}

    async def missing() -> None:
        return None

    assert await client.get_or_load("fir", "absent", missing) is None
    assert stub.calls["SetEntry"] == 0


async def test_fill_ttl_and_default_ttl_reach_the_cache(client: CacheClient, stub: FakeStub) -> None:
    async def long_lived() -> Fill:
        return Fill(b"final", ttl=86400)

    async def plain() -> bytes:
        return b"draft"

    await client.get_or_load("fir", "a", long_lived)
    await client.get_or_load("fir", "b", plain, ttl=30)
    await client.get_or_load("fir", "c", plain)
    await client.flush()
    assert stub.ttls == {("fir", "a"): 86400, ("fir", "b"): 30, ("fir", "c"): 0}


async def test_failures_are_misses_then_the_circuit_opens_and_closes(client: CacheClient, stub: FakeStub) -> None:
    stub.failing = TimeoutError()

    async def loader() -> bytes:
        return b"from-db"

    for _ in range(3):  # threshold: each failure is a miss, never an error
        assert await client.get_or_load("fir", "k", loader) == b"from-db"
    assert client.circuit_state == "opened" and client.counters["circuit_opened"] == 1
    calls = stub.calls["GetEntry"]
    for _ in range(20):
        assert await client.get_or_load("fir", "k", loader) == b"from-db"
        assert await client.get("fir", "k") is None
    # the open circuit skips the cache entirely: no call made, every read a short circuit
    assert (stub.calls["GetEntry"], client.counters["short_circuits"]) == (calls, 40)
    stub.failing = None
    await asyncio.sleep(SETTINGS.recovery_seconds + 0.05)
    assert await client.get_or_load("fir", "k", loader) == b"from-db"  # the probe succeeds
    await client.flush()
    assert client.circuit_state == "closed" and client.counters["circuit_closed"] == 1
    assert await client.get("fir", "k") == b"from-db"


async def test_refused_requests_do_not_open_the_circuit(client: CacheClient, stub: FakeStub) -> None:
    stub.failing = InvalidArgument("value too large")

    async def loader() -> bytes:
        return b"x"

    for _ in range(10):
        assert await client.get_or_load("fir", "k", loader) == b"x"
    assert client.circuit_state == "closed" and client.counters["errors"] == 10


async def test_a_lost_invalidation_is_paid_before_the_namespace_is_read_again(
    client: CacheClient, stub: FakeStub
) -> None:
    async def old() -> bytes:
        return b"old"

    async def new() -> bytes:
        return b"new"

    await client.get_or_load("fir", "k", old)
    await client.flush()
    stub.failing = ConnectionError()
    await client.delete("fir", "k")  # lost: the entry is still in the cache
    assert stub.entries[("fir", "k")] == b"old" and client.counters["lost_invalidations"] == 1
    stub.failing = None
    # the next read first invalidates the whole namespace, then reads
    assert await client.get_or_load("fir", "k", new) == b"new"
    assert stub.calls["InvalidateNamespace"] == 1
    assert await client.get("fir", "k") == b"new"


async def test_owed_namespace_is_bypassed_while_the_cache_is_unreachable(client: CacheClient, stub: FakeStub) -> None:
    async def loader() -> bytes:
        return b"v"

    stub.failing = ConnectionError()
    await client.invalidate("fir_list")
    assert await client.get_or_load("fir_list", "k", loader) == b"v"
    await client.flush()
    assert stub.calls["SetEntry"] == 0
    stub.failing = None
    stub.entries[("fir_list", "k")] = b"stale"
    assert await client.get("fir_list", "k") is None  # owed invalidation paid first
    assert ("fir_list", "k") not in stub.entries


async def test_stale_fills_are_counted(client: CacheClient, stub: FakeStub) -> None:
    stub.refuse_sets = True

    async def loader() -> bytes:
        return b"v"

    assert await client.get_or_load("fir", "k", loader) == b"v"
    await client.flush()
    assert client.counters["stale_sets"] == 1 and client.counters["sets"] == 0


async def test_in_memory_cache_fake_behaves_like_a_cache() -> None:
    cache = InMemoryCache()

    async def loader() -> bytes:
        return b"v"

    assert await cache.get_or_load("a", "k", loader) == b"v"
    assert await cache.get_or_load("a", "k", loader) == b"v" and cache.loads == 1
    assert await cache.get_or_load("b", "k", loader) == b"v"
    await cache.invalidate("a")
    await cache.delete("b", "k")
    assert cache.entries == {}
