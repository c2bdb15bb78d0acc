"""Caching across the mesh, through Envoy: read-after-write for every write
path, Redis killed mid-test (every FIR endpoint still answers, and fast),
Redis back (hits come back), and ``GET /v1/cache:stats``."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from scripts.devstack.stack import Stack
from tests.e2e.fir_helpers import create_fir

pytestmark = pytest.mark.e2e


@pytest.fixture
def ops(client_as: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    """The edge, signed in as an operator (cache statistics are an operator's)."""
    return client_as("operator")


async def namespace_stats(ops: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    resp = await ops.get("/v1/cache:stats")
    assert resp.status_code == 200, resp.text
    return {n["namespace"]: n for n in resp.json()["namespaces"]}


def hits(stats: dict[str, dict[str, Any]], namespace: str) -> int:
    return int(stats[namespace].get("hits", 0))


async def get_ok(rest: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    resp = await rest.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def test_cache_stats_through_envoy(ops: httpx.AsyncClient) -> None:
    resp = await ops.get("/v1/cache:stats")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    names = {n["namespace"] for n in body["namespaces"]}
    assert {"fir", "fir_list", "fir_stats"} <= names
    assert body["eviction_policy"] == "allkeys-lru" and body["eviction_policy_ok"] is True
    assert int(body["max_memory_bytes"]) == 128 * 1024 * 1024
    assert int(body["used_memory_bytes"]) > 0
    fir = next(n for n in body["namespaces"] if n["namespace"] == "fir")
    assert fir["default_ttl"] == "300s"


async def test_reads_are_served_from_the_cache(rest: httpx.AsyncClient, station: str, ops: httpx.AsyncClient) -> None:
    fir = await create_fir(rest, station)
    await get_ok(rest, f"/v1/firs/{fir['id']}")  # miss: fills
    before = await namespace_stats(ops)
    # Each read mask is answered from the one entry. A cache call slower than its
    # 50 ms deadline is a miss by design, so a busy machine may need more reads.
    for _ in range(5):
        for mask in ("", "summary,status", "complainant.phone"):
            got = await get_ok(rest, f"/v1/firs/{fir['id']}", **({"read_mask": mask} if mask else {}))
            assert got.get("summary", fir["summary"]) == fir["summary"]
        if hits(await namespace_stats(ops), "fir") - hits(before, "fir") >= 3:
            return
    pytest.fail("GetFir was not served from the cache")


async def test_legal_section_searches_are_cached(rest: httpx.AsyncClient, station: str, ops: httpx.AsyncClient) -> None:
    query = {"query": f"stolen motorcycle {station}"}  # a query no other test sent
    first = await get_ok(rest, "/v1/legal-sections", **query)
    before = await namespace_stats(ops)
    for _ in range(5):
        assert await get_ok(rest, "/v1/legal-sections", **query) == first
        if hits(await namespace_stats(ops), "legal_sections") > hits(before, "legal_sections"):
            return
    pytest.fail("the legal-section search was not served from the cache")


async def test_every_write_is_visible_to_the_next_read(rest: httpx.AsyncClient, station: str) -> None:
    by_station = {"filter": f'station = "{station}"'}
    fir = await create_fir(rest, station)
    path = f"/v1/firs/{fir['id']}"
    # warm every cached view: the FIR, a list page, its total, the statistics
    for _ in range(2):
        await get_ok(rest, path)
        await get_ok(rest, "/v1/firs", **by_station)
        await get_ok(rest, "/v1/firs:stats", **by_station)

    patched = await rest.patch(
        path, params={"update_mask": "summary"}, json={"etag": fir["etag"], "summary": "edited once"}
    )
    assert patched.status_code == 200, patched.text
    edited = patched.json()
    got = await get_ok(rest, path)
    assert got["summary"] == "edited once" and got["etag"] == edited["etag"] != fir["etag"]
    assert (await get_ok(rest, path, read_mask="summary"))["summary"] == "edited once"
    listed = await get_ok(rest, "/v1/firs", **by_station)
    assert [f["summary"] for f in listed["firs"]] == ["edited once"]

    second = await create_fir(rest, station)
    listed = await get_ok(rest, "/v1/firs", **by_station)
    assert listed["total_size"] == "2" and {f["id"] for f in listed["firs"]} == {fir["id"], second["id"]}
    assert (await get_ok(rest, "/v1/firs:stats", **by_station))["total"] == "2"

    done = await rest.post(f"{path}:finalize", json={"etag": edited["etag"]})
    assert done.status_code == 200, done.text
    final = await rest.get(path)
    assert final.json()["status"] == "FIR_STATUS_FINALIZED" and final.json()["etag"] == done.json()["etag"]
    assert "immutable" in final.headers["cache-control"]
    finalized = await get_ok(rest, "/v1/firs", filter=f'station = "{station}" AND status = FINALIZED')
    assert [f["id"] for f in finalized["firs"]] == [fir["id"]]
    counts = await get_ok(rest, "/v1/firs:stats", **by_station)
    assert {r["key"]: r["count"] for r in counts["by_status"]} == {"DRAFT": "1", "FINALIZED": "1"}

    # a refused write changes nothing, and the next read still answers the truth
    stale = await rest.patch(path, params={"update_mask": "summary"}, json={"etag": fir["etag"], "summary": "x"})
    assert stale.status_code in (400, 409)
    assert (await get_ok(rest, path))["summary"] == "edited once"


async def cache_calls_made_by_fir(stack: Stack) -> float:
    """gRPC calls fir made to the cache service so far (its Prometheus counter)."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{stack.cfg.fir_metrics_port}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("afirgen_rpc_client_requests_total{") and "afirgen.cache.v1.CacheService" in line
    )


async def timed_get(rest: httpx.AsyncClient, path: str) -> float:
    started = time.perf_counter()
    resp = await rest.get(path)
    elapsed = time.perf_counter() - started
    assert resp.status_code == 200, resp.text
    return elapsed


async def test_redis_down_costs_nothing_but_speed_and_hits_come_back(
    stack: Stack, rest: httpx.AsyncClient, station: str, ops: httpx.AsyncClient
) -> None:
    firs = [await create_fir(rest, station) for _ in range(30)]
    miss = [await timed_get(rest, f"/v1/firs/{f['id']}") for f in firs]  # first reads: misses
    for f in firs[:5]:
        await get_ok(rest, f"/v1/firs/{f['id']}")

    stack.ctl("stop", "infra:redis")
    try:
        # every FIR endpoint answers correctly while the cache is broken
        fir = firs[0]
        got = await get_ok(rest, f"/v1/firs/{fir['id']}")
        assert got["id"] == fir["id"] and got["summary"] == fir["summary"]
        patched = await rest.patch(
            f"/v1/firs/{fir['id']}",
            params={"update_mask": "summary"},
            json={"etag": fir["etag"], "summary": "no cache"},
        )
        assert patched.status_code == 200, patched.text
        assert (await get_ok(rest, f"/v1/firs/{fir['id']}"))["summary"] == "no cache"
        created = await create_fir(rest, station)
        listed = await get_ok(rest, "/v1/firs", filter=f'station = "{station}"', page_size=100)
        assert listed["total_size"] == "31" and created["id"] in {f["id"] for f in listed["firs"]}
        assert (await get_ok(rest, "/v1/firs:stats", filter=f'station = "{station}"'))["total"] == "31"
        events = await get_ok(rest, f"/v1/firs/{fir['id']}/events")
        assert [e["action"] for e in events["events"]] == ["CREATED", "UPDATED"]
        done = await rest.post(f"/v1/firs/{created['id']}:finalize", json={"etag": created["etag"]})
        assert done.status_code == 200, done.text
        assert (await get_ok(rest, f"/v1/firs/{created['id']}"))["status"] == "FIR_STATUS_FINALIZED"
        searched = await rest.get("/v1/legal-sections", params={"query": "theft"})
        assert searched.status_code == 200, searched.text
        # and fast: the open circuit skips the cache, so reads cost what a miss costs
        calls_before = await cache_calls_made_by_fir(stack)
        started = time.monotonic()
        down = [await timed_get(rest, f"/v1/firs/{f['id']}") for f in firs]
        window = time.monotonic() - started
        await asyncio.sleep(0.1)  # client metrics are recorded just after each call
        calls_during = await cache_calls_made_by_fir(stack) - calls_before
    finally:
        stack.ctl("start", "infra:redis")

    miss_p50, down_p50 = statistics.median(miss), statistics.median(down)
    print(f"GetFir p50 through Envoy: cache miss {miss_p50 * 1000:.1f} ms, redis down {down_p50 * 1000:.1f} ms")
    assert calls_before > 0  # the counter works: fir did call the cache before
    # the cache was not asked at all, bar one probe per recovery period (2 s)
    assert calls_during <= 1 + window / 2, (calls_during, window)
    assert down_p50 <= miss_p50 + 0.005, (miss_p50, down_p50)
    assert max(down) < 2.0, max(down)  # nothing waits on the cache (the machine may be busy)

    # Redis is back (empty): the circuit closes by itself and hits return
    deadline = time.monotonic() + 30
    recovered = False
    while time.monotonic() < deadline and not recovered:
        await asyncio.sleep(0.5)
        await get_ok(rest, f"/v1/firs/{firs[1]['id']}")
        before = hits(await namespace_stats(ops), "fir")
        await get_ok(rest, f"/v1/firs/{firs[1]['id']}")
        recovered = hits(await namespace_stats(ops), "fir") > before
    assert recovered, "no cache hits within 30 s of Redis coming back"
    # nothing written while Redis was away is served stale
    assert (await get_ok(rest, f"/v1/firs/{fir['id']}"))["summary"] == "no cache"
    assert (await get_ok(rest, "/v1/firs:stats", filter=f'station = "{station}"'))["total"] == "31"
