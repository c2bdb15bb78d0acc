"""Caching across the mesh, through Envoy: read-after-write for every write
path, Redis killed mid-test (every FIR endpoint still answers, and the open
circuit keeps reads off the cache), Redis back (hits come back), and
``GET /v1/cache:stats``. What a dead cache costs in latency is measured by the
benchmark (``bench/scenarios/cache_outage.py``), not asserted here."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from afirgen_fir.entrypoints import rebuild_counts
from afirgen_fir.settings import FirSettings
from afirgen_runtime.cache_client import CacheClientSettings
from afirgen_runtime.db import Database, Statement
from prometheus_client.parser import text_string_to_metric_families

from scripts.devstack.stack import Stack
from tests.conftest import mysql_settings
from tests.e2e.fir_helpers import create_fir, error_reason
from tests.waiting import until

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


async def fir_hits(stack: Stack, ops: httpx.AsyncClient) -> float:
    """GetFir hits: the cache service's in namespace ``fir`` and fir's near cache's."""
    return hits(await namespace_stats(ops), "fir") + (await fir_cache_client(stack)).get("near_hits", 0.0)


async def test_reads_are_served_from_the_cache(
    stack: Stack, rest: httpx.AsyncClient, station: str, ops: httpx.AsyncClient
) -> None:
    fir = await create_fir(rest, station)
    await get_ok(rest, f"/v1/firs/{fir['id']}")  # miss: fills
    before = await fir_hits(stack, ops)
    # Each read mask is answered from the one entry (in the cache service or in fir's near
    # cache). A cache call slower than its 50 ms deadline is a miss by design, so a busy
    # machine may need more reads.
    for _ in range(5):
        for mask in ("", "summary,status", "complainant.phone"):
            got = await get_ok(rest, f"/v1/firs/{fir['id']}", **({"read_mask": mask} if mask else {}))
            assert got.get("summary", fir["summary"]) == fir["summary"]
        if await fir_hits(stack, ops) - before >= 3:
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

    # a refused write changes nothing, and the next read still answers the truth (a finalized
    # FIR refuses every change: that is checked before the etag, which is stale here too)
    stale = await rest.patch(path, params={"update_mask": "summary"}, json={"etag": fir["etag"], "summary": "x"})
    assert (stale.status_code, error_reason(stale.json())) == (400, "FIR_FINALIZED")
    assert (await get_ok(rest, path))["summary"] == "edited once"


CACHE_RECOVERY_SECONDS = 2.0
"""How long fir's cache circuit stays open before one call probes the cache (CacheClientSettings)."""


async def fir_cache_client(stack: Stack) -> dict[str, float]:
    """The fir replicas' cache clients as their metrics show them: ``circuit_open`` (how many
    replicas have it open) and each event summed over namespaces and replicas."""
    seen: dict[str, float] = {}
    async with httpx.AsyncClient() as client:
        for port in stack.cfg.fir_metrics_ports:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name == "afirgen_cache_client_circuit_open":
                        seen["circuit_open"] = seen.get("circuit_open", 0.0) + sample.value
                    elif sample.name == "afirgen_cache_client_events_total":
                        event = sample.labels["event"]
                        seen[event] = seen.get(event, 0.0) + sample.value
                    elif sample.name == "afirgen_near_cache_events_total" and sample.labels["namespace"] == "fir":
                        event = "near_" + sample.labels["event"]
                        seen[event] = seen.get(event, 0.0) + sample.value
    return seen


async def test_redis_down_costs_nothing_but_the_cache_and_hits_come_back(
    stack: Stack, rest: httpx.AsyncClient, station: str, ops: httpx.AsyncClient
) -> None:
    firs = [await create_fir(rest, station) for _ in range(30)]
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

        # The failures open each fir replica's cache circuit (reads of every FIR reach both: the
        # edge routes a FIR by its id): from then on reads do not ask the cache, bar one probe
        # per recovery period and replica (a probe fails, so it counts as an error).
        async def read_all() -> dict[str, float]:
            for f in firs:
                await get_ok(rest, f"/v1/firs/{f['id']}")
            return await fir_cache_client(stack)

        await until(read_all, lambda c: c.get("circuit_open") == 2, what="every fir replica's circuit to open")
        before = await fir_cache_client(stack)
        started = time.monotonic()
        for f in firs:
            await get_ok(rest, f"/v1/firs/{f['id']}")
        after = await fir_cache_client(stack)
        window = time.monotonic() - started
    finally:
        stack.ctl("start", "infra:redis")

    asked = after.get("errors", 0) - before.get("errors", 0)
    assert asked <= 2 * (1 + window / CACHE_RECOVERY_SECONDS), (asked, window)

    # Redis is back (empty): the circuit closes by itself and hits return
    async def hit_after_fill() -> bool:
        await get_ok(rest, f"/v1/firs/{firs[1]['id']}")
        before = await fir_hits(stack, ops)
        await get_ok(rest, f"/v1/firs/{firs[1]['id']}")
        return await fir_hits(stack, ops) > before

    await until(hit_after_fill, within=30, every=0.5, what="a cache hit after Redis came back")
    # nothing written while Redis was away is served stale
    assert (await get_ok(rest, f"/v1/firs/{fir['id']}"))["summary"] == "no cache"
    assert (await get_ok(rest, "/v1/firs:stats", filter=f'station = "{station}"'))["total"] == "31"


async def test_a_rebuild_of_the_counts_reaches_every_cached_statistic(
    rest: httpx.AsyncClient, stack: Stack, fir_db: Database, station: str
) -> None:
    """The counts drift (written around the service), every reader caches the drifted statistics
    (both fir replicas' near copies and the cache service), then the station's day is rebuilt:
    every read after the command answers the recount."""
    by_station = {"filter": f'station = "{station}"'}
    await create_fir(rest, station)
    drift = Statement("t.drift", "UPDATE fir_counts SET drafts = drafts + 5 WHERE station_code = %s")
    await fir_db.run(lambda conn: conn.execute(drift, (station,)), transaction=True)
    drifted = [(await get_ok(rest, "/v1/firs:stats", **by_station))["total"] for _ in range(4)]
    assert "1" not in drifted  # the drift is what every reader sees and caches
    settings = FirSettings(
        mysql=mysql_settings(stack),
        cache=CacheClientSettings(target=f"127.0.0.1:{stack.cfg.cache_port}"),
        page_token_secret=stack.cfg.page_token_secret,
    )
    day = (datetime.now(UTC) + timedelta(minutes=settings.numbering_utc_offset_minutes)).date()
    assert await rebuild_counts.rebuild(settings, station, day) == 0
    totals = [(await get_ok(rest, "/v1/firs:stats", **by_station))["total"] for _ in range(4)]
    assert totals == ["1"] * 4
