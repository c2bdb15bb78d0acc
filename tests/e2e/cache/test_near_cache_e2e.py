"""Cached reads through Envoy, as fir serves them from bytes and from its near cache: read masks,
etags and scope checks of cached FIRs, a delete made by another process reaching fir's near
cache through the cache service's invalidation feed, and invalidation scoped to the station a
write touched. Every REST call carries a token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import httpx
import pytest
from afirgen.cache.v1 import cache_pb2, cache_pb2_grpc
from afirgen_runtime.db import Database, Statement
from afirgen_runtime.near_cache import ENTRY_OVERHEAD_BYTES
from prometheus_client.parser import text_string_to_metric_families

from scripts.devstack.stack import Stack
from tests.conftest import unique_station
from tests.e2e.fir_helpers import create_fir, finalize_fir
from tests.waiting import until

pytestmark = pytest.mark.e2e


async def get_ok(rest: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    resp = await rest.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp


async def replica_samples(stack: Stack, name: str, labels: dict[str, str]) -> list[float]:
    """The sample ``name`` with ``labels`` of each fir replica, from their metrics (0 when absent)."""
    values = []
    async with httpx.AsyncClient() as client:
        for port in stack.cfg.fir_metrics_ports:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            found = 0.0
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name == name and sample.labels == labels:
                        found = sample.value
            values.append(found)
    return values


async def replica_hits(stack: Stack, namespace: str = "fir") -> list[float]:
    """Hits of each fir replica's near cache of ``namespace``."""
    return await replica_samples(stack, "afirgen_near_cache_events_total", {"namespace": namespace, "event": "hits"})


async def near_hits(stack: Stack, namespace: str = "fir") -> float:
    """Hits of the fir replicas' near caches of ``namespace``, together."""
    return sum(await replica_hits(stack, namespace))


async def warm(rest: httpx.AsyncClient, path: str) -> None:
    """Read until fir serves ``path`` from its cache (the first read fills it)."""
    for _ in range(3):
        await get_ok(rest, path)


async def test_a_cached_read_with_a_mask_answers_only_the_masked_fields(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    path = f"/v1/firs/{fir['id']}"
    await warm(rest, path)
    masked = (await get_ok(rest, path, read_mask="summary,status")).json()
    assert masked == {"summary": fir["summary"], "status": "FIR_STATUS_DRAFT"}


async def test_a_cached_read_carries_the_etag_of_its_body(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    path = f"/v1/firs/{fir['id']}"
    await warm(rest, path)
    resp = await get_ok(rest, path)
    assert resp.headers["etag"] == f'"{fir["etag"]}"' and resp.json()["etag"] == fir["etag"]


async def test_a_cached_fir_of_another_station_is_not_found(
    rest: httpx.AsyncClient, station: str, client_as: Callable[..., httpx.AsyncClient]
) -> None:
    fir = await create_fir(rest, station)
    path = f"/v1/firs/{fir['id']}"
    await warm(rest, path)
    other = client_as("sho", unique_station())
    assert (await other.get(path)).status_code == 404


@pytest.mark.parametrize("finalized", [True, False], ids=["finalized", "draft"])
async def test_reads_are_served_from_the_near_cache(
    stack: Stack, rest: httpx.AsyncClient, station: str, finalized: bool
) -> None:
    fir = await create_fir(rest, station)
    if finalized:
        fir = await finalize_fir(rest, fir)
    path = f"/v1/firs/{fir['id']}"
    await get_ok(rest, path)  # fills the cache and the near cache

    async def served_near() -> bool:
        before = await near_hits(stack)
        await get_ok(rest, path)
        return await near_hits(stack) > before

    await until(served_near, within=10, every=0.2, what="a read served from fir's near cache")


async def test_a_replica_reports_the_bytes_a_finalized_fir_takes_in_its_near_cache(
    stack: Stack, rest: httpx.AsyncClient, station: str
) -> None:
    fir = await finalize_fir(rest, await create_fir(rest, station))
    before = sum(await replica_samples(stack, "afirgen_near_cache_bytes", {"namespace": "fir"}))
    await get_ok(rest, f"/v1/firs/{fir['id']}")  # kept whole, in its wire form, by the replica that read it
    after = sum(await replica_samples(stack, "afirgen_near_cache_bytes", {"namespace": "fir"}))
    assert after - before > ENTRY_OVERHEAD_BYTES


async def test_rest_reads_of_one_fir_are_answered_by_one_replica(
    stack: Stack, rest: httpx.AsyncClient, station: str
) -> None:
    fir = await create_fir(rest, station)
    path = f"/v1/firs/{fir['id']}"
    await warm(rest, path)
    before = await replica_hits(stack)
    for _ in range(10):
        await get_ok(rest, path)
    after = await replica_hits(stack)
    assert sorted(a - b > 0 for a, b in zip(after, before, strict=True)) == [False, True]


async def test_every_read_after_an_edit_answers_the_edit(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    path = f"/v1/firs/{fir['id']}"
    await warm(rest, path)
    etag, stale = fir["etag"], []
    for n in range(20):
        edit = await rest.patch(path, params={"update_mask": "summary"}, json={"etag": etag, "summary": f"edit {n}"})
        assert edit.status_code == 200, edit.text
        etag = edit.json()["etag"]
        read = (await get_ok(rest, path)).json()
        if read["summary"] != f"edit {n}":
            stale.append((n, read["summary"]))
    assert stale == []


async def test_a_delete_made_elsewhere_reaches_firs_near_cache(
    stack: Stack, rest: httpx.AsyncClient, station: str, fir_db: Database
) -> None:
    fir = await create_fir(rest, station)
    path = f"/v1/firs/{fir['id']}"
    await warm(rest, path)
    # Another writer: the row changes behind fir's back, and the change is announced to the
    # cache service only (as a second fir process would), never to this fir process.
    update = Statement("t.summary", "UPDATE firs SET summary = %s WHERE id = %s")
    await fir_db.run(lambda c: c.execute(update, ("changed elsewhere", fir["id"])))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.cfg.cache_port}") as channel:
        await cache_pb2_grpc.CacheServiceStub(channel).DeleteEntries(
            cache_pb2.DeleteEntriesRequest(namespace="fir", keys=[fir["id"]]), timeout=5
        )

    async def summary() -> str:
        return str((await get_ok(rest, path)).json()["summary"])

    await until(summary, lambda s: s == "changed elsewhere", what="fir to drop its near-cache copy")


async def test_a_write_leaves_another_stations_cached_list_served(
    stack: Stack, rest: httpx.AsyncClient, station: str, client_as: Callable[..., httpx.AsyncClient]
) -> None:
    other_station = unique_station()
    other = client_as("sho", other_station)
    await create_fir(other, other_station)
    by_station = {"filter": f'station = "{other_station}"'}
    ops = client_as("operator")

    async def list_hits() -> float:
        """Pages served from the cache: the cache service's hits and the fir replicas' near copies."""
        body = (await get_ok(ops, "/v1/cache:stats")).json()
        service = int(next(n for n in body["namespaces"] if n["namespace"] == "fir_list").get("hits", 0))
        return service + await near_hits(stack, "fir_list_pages")

    async def served_after_a_write_elsewhere() -> bool:
        await get_ok(other, "/v1/firs", **by_station)  # fills (or is already filled)
        await create_fir(rest, station)  # a write to another station
        before = await list_hits()
        await get_ok(other, "/v1/firs", **by_station)
        return await list_hits() > before

    await until(served_after_a_write_elsewhere, within=20, every=0.2, what="a list hit after a write elsewhere")


async def test_a_cached_page_with_a_mask_answers_only_the_masked_fields(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    query = {"filter": f'station = "{station}"', "read_mask": "summary"}
    for _ in range(3):
        await get_ok(rest, "/v1/firs", **query)
    body = (await get_ok(rest, "/v1/firs", **query)).json()
    assert body["firs"] == [{"summary": fir["summary"]}]


async def test_a_cached_page_carries_each_firs_etag_and_the_total(rest: httpx.AsyncClient, station: str) -> None:
    fir = await create_fir(rest, station)
    query = {"filter": f'station = "{station}"'}
    for _ in range(3):
        await get_ok(rest, "/v1/firs", **query)
    body = (await get_ok(rest, "/v1/firs", **query)).json()
    assert ([f["etag"] for f in body["firs"]], body["total_size"]) == ([fir["etag"]], "1")
