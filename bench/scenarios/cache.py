"""Cache: the same reads with a cold and a warm cache (miss vs hit), and the hit ratio
of a read-heavy workload, from the cache service's own hit/miss counters.

- GetFir: FIRs nobody read yet (all misses), then the same again (all hits).
- ListFirs, GetFirStats: station filters nobody asked for yet, then again.
- Between the cold and the warm pass each read is sent once straight to every fir replica,
  untimed: the warm pass times the hits a repeated read gets (from a near cache where fir
  keeps one).
- Unfiltered GetFirStats over the whole table: the namespace is invalidated
  before each cold sample.
- Workload: 90% GetFir (Zipf popularity over 500 DRAFT FIRs), 8% ListFirs,
  1% GetFirStats, 1% CreateFir (a write invalidates the lists and stats of its
  scopes); run once to warm up, then measured. Hits are the cache service's plus
  GetFir reads fir served from its near cache (its ``/metrics``). Finalized FIRs
  are left out: the fir service keeps them in process.

Reads are made as an auditor, the workload's writes as the station house officer
of ``BW-MIX``, ``/v1/cache:stats`` as an operator; namespace invalidation goes
straight to the cache service as the fir service does (an internal call, no caller).

Skips when the edge has no ``/v1/cache:stats`` or the fir service does not use the cache.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from typing import Any

import grpc
import httpx
from afirgen.cache.v1 import cache_pb2, cache_pb2_grpc
from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc
from google.protobuf import descriptor_pool, json_format, message_factory

from bench.loadgen import GrpcCall
from bench.results import Measurement
from bench.scenarios import Context, Skip
from bench.target import OPERATOR, WRITER, Target

FIR = "afirgen.fir.v1.FirService"
NAMESPACES = ("fir", "fir_list", "fir_stats")
MIX_STATION = "BW-MIX"


def cache_stats(target: Target) -> dict[str, dict[str, Any]]:
    """Per-namespace counters from ``GET /v1/cache:stats`` (as an operator); Skip when there is no cache."""
    try:
        resp = httpx.get(f"{target.base_url}/v1/cache:stats", headers=target.headers(OPERATOR), timeout=5)
    except httpx.HTTPError as exc:
        raise Skip(f"cache service unreachable: {exc}") from None
    if resp.status_code != 200:
        raise Skip(f"no cache service behind the edge yet (/v1/cache:stats answered {resp.status_code})")
    return {ns["namespace"]: ns for ns in resp.json().get("namespaces", [])}


NEAR = {"fir": "fir", "fir_list_pages": "fir_list"}
"""fir's near caches -> the cache service namespace whose entries they hold."""
WARM_NEAR = {"GetFir": "fir", "ListFirs": "fir_list_pages"}
"""Reads fir keeps in a near cache -> that near cache."""


def near_events(ctx: Context, event: str) -> dict[str, int]:
    """Events (``hits``, ``misses``) of the fir replicas' near caches so far, by near cache,
    summed over the replicas (their ``/metrics``; a replica that does not answer counts 0)."""
    found: dict[str, int] = {}
    for sample in ctx.fir_samples("afirgen_near_cache_events_total"):
        if sample.labels.get("event") == event:
            near = sample.labels.get("namespace", "")
            found[near] = found.get(near, 0) + int(sample.value)
    return found


def fir_near_hits(ctx: Context) -> dict[str, int]:
    """Reads the fir replicas served from their near caches so far, by cache service namespace."""
    found = dict.fromkeys(NEAR.values(), 0)
    for near, hits in near_events(ctx, "hits").items():
        if near in NEAR:
            found[NEAR[near]] += hits
    return found


def _delta(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], field: str, ns: str) -> int:
    return int(after.get(ns, {}).get(field, 0)) - int(before.get(ns, {}).get(field, 0))


def _calls(call: GrpcCall) -> tuple[list[float], int]:
    """Each of the call's requests once, in order, one at a time over a connection opened first:
    the milliseconds of each that answered as expected, and how many did not."""
    method = descriptor_pool.Default().FindMethodByName(call.method.replace("/", "."))
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    data = call.data if isinstance(call.data, list) else [call.data]
    metadata = call.metadata if isinstance(call.metadata, list) else [call.metadata or {}]
    samples, errors = [], 0
    with grpc.insecure_channel(call.address) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        invoke = channel.unary_unary(
            f"/{call.method}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        for n, body in enumerate(data):
            request = json_format.ParseDict(body, request_class())
            started = time.perf_counter()
            try:
                invoke(request, timeout=20, metadata=tuple(metadata[n % len(metadata)].items()))
            except grpc.RpcError as exc:
                if exc.code().name not in call.expected_codes:  # type: ignore[attr-defined]
                    errors += 1
                    continue
            samples.append((time.perf_counter() - started) * 1000)
    return samples, errors


def one_by_one(ctx: Context, call: GrpcCall, key: str, label: str, scenario: str = "cache") -> Measurement:
    """Each of the call's requests once, one at a time, from this process's gRPC client over a
    connection opened first. Not ghz: with its messages built from descriptors at run time, ghz
    spent about 1.7 ms more than this client on a cached page of 50 FIRs (3.08 against 1.41 ms,
    the same call 300 times through Envoy), which hid most of what the cache saves."""
    samples, errors = _calls(call)
    if not samples:
        raise RuntimeError(f"{label}: every one of {errors} calls failed")
    m = Measurement.from_samples(scenario, key, label, "python-grpc", samples, errors=errors)
    ctx.log(f"  {label}: p50 {m.p50_ms:.2f} ms, p99 {m.p99_ms:.2f} ms ({m.count} calls, {m.errors} errors)")
    return ctx.results.add(m)


def on_every_replica(ctx: Context, call: GrpcCall) -> None:
    """Each of the call's requests once on every fir replica, straight to it (as a reader), untimed."""
    for port in ctx.target.cfg.fir_ports:
        address = f"127.0.0.1:{port}"
        _calls(dataclasses.replace(call, address=address, metadata=ctx.target.metadata(address)))


def cold_warm(ctx: Context, name: str, call: GrpcCall) -> tuple[Measurement, Measurement]:
    """One pass over never-asked requests (misses), then every request once more on every fir
    replica (untimed), then one pass over the same requests (hits).

    A read a replica has made once is in its near cache (GetFir, ListFirs); the same read on
    another replica goes to the cache service. Envoy picks a replica at random for these calls
    (Maglev without a hash key), so without the untimed pass the warm pass would time one kind
    of hit or the other depending on which replica each read reached. The near caches' misses
    during the warm pass are reported (0: every warm read was served from the replica's own copy;
    more: copies the byte bound evicted)."""
    miss = one_by_one(ctx, call, f"cache.{name}.miss", f"{name} cold (miss)")
    on_every_replica(ctx, call)
    near = WARM_NEAR.get(name)
    misses_before = near_events(ctx, "misses")
    hit = one_by_one(ctx, call, f"cache.{name}.hit", f"{name} warm (hit)")
    if near:
        missed = near_events(ctx, "misses").get(near, 0) - misses_before.get(near, 0)
        ctx.results.figures[f"cache.{name}.hit_near_misses"] = float(missed)
    return miss, hit


def unfiltered_stats(ctx: Context) -> tuple[Measurement, Measurement]:
    """GetFirStats over the whole table: computed (namespace invalidated first) vs cached."""
    samples = max(3, min(5, ctx.profile.cache_samples // 5))
    reader = tuple(ctx.target.metadata(ctx.target.envoy).items())
    with grpc.insecure_channel(ctx.target.envoy) as edge, grpc.insecure_channel(ctx.target.cache) as cache:
        fir = fir_pb2_grpc.FirServiceStub(edge)
        invalidate = cache_pb2_grpc.CacheServiceStub(cache).InvalidateNamespace
        request = fir_pb2.GetFirStatsRequest(days=30)
        out = []
        for cold in (True, False):
            times = []
            fir.GetFirStats(request, timeout=60, metadata=reader)
            for _ in range(samples):
                if cold:
                    invalidate(cache_pb2.InvalidateNamespaceRequest(namespace="fir_stats"), timeout=5)
                started = time.perf_counter()
                fir.GetFirStats(request, timeout=60, metadata=reader)
                times.append((time.perf_counter() - started) * 1000)
            kind = "miss" if cold else "hit"
            label = f"GetFirStats, whole table, {'cold' if cold else 'warm'} ({kind})"
            out.append(Measurement.from_samples("cache", f"cache.GetFirStats_all.{kind}", label, "python-grpc", times))
    for m in out:
        ctx.results.add(m)
        ctx.log(f"  {m.label}: p50 {m.p50_ms:.2f} ms")
    return out[0], out[1]


async def _workload(ctx: Context, ids: list[str], requests: int, seconds: float, seed: int) -> tuple[int, int]:
    """The read-heavy mix through Envoy; returns (calls, errors). Bounded by count and time."""
    weights = [1 / (rank + 1) for rank in range(len(ids))]
    stations = [f"BN-{i:03d}" for i in range(150, 155)]
    rng = random.Random(seed)  # the same mix every run
    deadline = time.monotonic() + seconds
    calls = errors = 0
    edge = ctx.target.envoy
    reader = tuple(ctx.target.metadata(edge).items())
    writer = tuple(ctx.target.metadata(edge, WRITER, MIX_STATION).items())
    async with grpc.aio.insecure_channel(edge) as channel:
        stub = fir_pb2_grpc.FirServiceStub(channel)

        async def one() -> None:
            roll = rng.random()
            if roll < 0.90:
                request = fir_pb2.GetFirRequest(id=rng.choices(ids, weights)[0])
                await stub.GetFir(request, timeout=10, metadata=reader)
            elif roll < 0.98:
                flt = f'station = "{rng.choice(stations)}"'
                await stub.ListFirs(fir_pb2.ListFirsRequest(filter=flt, page_size=20), timeout=10, metadata=reader)
            elif roll < 0.99:
                stats = fir_pb2.GetFirStatsRequest(days=30, filter='station = "BN-150"')
                await stub.GetFirStats(stats, timeout=30, metadata=reader)
            else:
                fir = fir_pb2.Fir(station=fir_pb2.Station(code=MIX_STATION), complainant=fir_pb2.Complainant(name="x"))
                await stub.CreateFir(fir_pb2.CreateFirRequest(fir=fir), timeout=10, metadata=writer)

        async def worker(share: int) -> None:
            nonlocal calls, errors
            for _ in range(share):
                if time.monotonic() > deadline:
                    return
                calls += 1
                try:
                    await one()
                except grpc.aio.AioRpcError:
                    errors += 1

        await asyncio.gather(*(worker(requests // 10) for _ in range(10)))
    return calls, errors


def hit_ratio(ctx: Context) -> None:
    """Steady-state hit ratio of the workload (one untimed warm-up pass first)."""
    ids = ctx.hot.drafts + ctx.take_miss_ids(max(0, 500 - len(ctx.hot.drafts)))
    n, limit = ctx.profile.workload_requests, ctx.profile.run_timeout_s * 4
    asyncio.run(_workload(ctx, ids, n, limit, seed=1))
    before, near_before = cache_stats(ctx.target), fir_near_hits(ctx)
    started = time.monotonic()
    calls, errors = asyncio.run(_workload(ctx, ids, n, limit, seed=2))
    elapsed = time.monotonic() - started
    after, near_after = cache_stats(ctx.target), fir_near_hits(ctx)
    near = {ns: near_after[ns] - near_before[ns] for ns in near_after}
    f = ctx.results.figures
    # A read served from a fir replica's near cache never reaches the cache service: a hit too.
    hits = sum(_delta(before, after, "hits", ns) + near.get(ns, 0) for ns in NAMESPACES)
    misses = sum(_delta(before, after, "misses", ns) for ns in NAMESPACES)
    f["cache.workload.near_hits"] = float(sum(near.values()))
    f["cache.workload.hit_ratio"] = hits / max(1, hits + misses)
    f["cache.workload.lookups"] = float(hits + misses)
    for ns in NAMESPACES:
        h, m = _delta(before, after, "hits", ns) + near.get(ns, 0), _delta(before, after, "misses", ns)
        if h + m:
            f[f"cache.workload.hit_ratio.{ns}"] = h / (h + m)
    f["cache.workload.rps"] = calls / max(elapsed, 1e-6)
    f["cache.workload.error_rate"] = errors / max(calls, 1)
    ctx.log(f"  workload: {calls} calls, hit ratio {f['cache.workload.hit_ratio']:.3f}, errors {errors}")


def run(ctx: Context) -> None:
    """Cold vs warm for GetFir, ListFirs, GetFirStats; then the workload's hit ratio."""
    before = cache_stats(ctx.target)
    k = ctx.profile.cache_samples
    edge = ctx.target.envoy
    reader = ctx.target.metadata(edge)
    get = GrpcCall(f"{FIR}/GetFir", edge, [{"id": i} for i in ctx.take_miss_ids(k)], ctx.protoset, reader)
    miss, hit = cold_warm(ctx, "GetFir", get)
    if _delta(before, cache_stats(ctx.target), "sets", "fir") <= 0:
        raise Skip("the fir service does not read through the cache service (no fills in namespace 'fir')")
    stations = [f"BN-{i:03d}" for i in range(20, 20 + min(k, 120))]
    lists = [{"filter": f'station = "{s}"', "page_size": 50} for s in stations]
    stats = [{"filter": f'station = "{s}"', "days": 30} for s in stations]
    calls = {
        "ListFirs": GrpcCall(f"{FIR}/ListFirs", edge, lists, ctx.protoset, reader),
        "GetFirStats": GrpcCall(f"{FIR}/GetFirStats", edge, stats, ctx.protoset, reader),
    }
    f = ctx.results.figures
    f["cache.GetFir.hit_over_miss"] = hit.p50_ms / max(miss.p50_ms, 1e-3)
    for name, call in calls.items():
        cold, warm = cold_warm(ctx, name, call)
        f[f"cache.{name}.speedup"] = cold.p50_ms / max(warm.p50_ms, 1e-3)
    cold, warm = unfiltered_stats(ctx)
    f["cache.GetFirStats_all.speedup"] = cold.p50_ms / max(warm.p50_ms, 1e-3)
    hit_ratio(ctx)
