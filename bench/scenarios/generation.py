"""Generation (skeleton until the inference proxy and model servers land, issue 3).

Runs only when ``GET /v1/models`` answers through the edge with at least one
available model; otherwise it skips with a note. When it runs: N concurrent
``GenerateFir`` calls through Envoy; completed vs shed (RESOURCE_EXHAUSTED)
vs other errors; end-to-end latency; backend overhead = end-to-end minus the
model servers' time and the wait for a free slot of them, both reported per model
stage in ``Fir.generation.stage_millis`` (``llm_model``, ``llm_queue``, ...), with the
queue wait reported beside it. The overhead is also split in two: ``drafting`` (fir's
drafting, stage ``total``, less the model servers' time and the queue wait: rules, retrieval,
the calls to and through the inference proxy) and ``storing`` (end-to-end less ``total``:
storing the FIR, fir's gRPC server and Envoy). And GetFir p99 while
generation saturates the models, against its idle p99 (isolation target).

Each generation is asked by the station house officer of its FIR's station
(``BG-00``..``BG-49``); reads and ``/v1/models`` as an auditor.
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import time
from typing import Any

import grpc
import httpx
from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc

from bench import loadgen
from bench.scenarios import Context, Skip
from bench.scenarios.grpc_load import read_calls
from bench.target import WRITER, Target

GENERATION_STATIONS = 50
"""Numbering locks one counter row per station: generations are spread over this many."""
MODEL_STAGES = ("asr", "ocr", "llm", "llm_reask")
"""Stages that call a model (the first answer and the re-ask): each reports ``<stage>_model``,
the model server's time, and ``<stage>_queue``, the wait for a free slot in the inference proxy."""


def _split(stages: dict[str, float]) -> tuple[float, float]:
    """(model servers' time, queue wait) of one generation, over its model stages. A call that
    did not answer (its budget ran out, the draft was the rules' alone) reports no split: its
    whole stage counts as model time, since it was spent waiting on the model server or a slot."""
    model = queue = 0.0
    for stage in MODEL_STAGES:
        if f"{stage}_model" in stages:
            model += stages[f"{stage}_model"]
            queue += stages.get(f"{stage}_queue", 0.0)
        else:
            model += stages.get(stage, 0.0)
    return model, queue


def models_available(target: Target) -> list[dict[str, Any]]:
    """The models the proxy reports available; Skip when there is no proxy yet."""
    try:
        resp = httpx.get(f"{target.base_url}/v1/models", headers=target.headers(), timeout=5)
    except httpx.HTTPError as exc:
        raise Skip(f"/v1/models unreachable: {exc}") from None
    if resp.status_code != 200:
        raise Skip(f"no inference proxy yet: /v1/models answered {resp.status_code}")
    body = resp.json()
    # proto3 JSON leaves out `available: false`: a backend is up only when it says so.
    backends = [m for m in body.get("backends", body.get("models", [])) if m.get("available", False)]
    if not any(m.get("kind", "llm").lower().endswith("llm") for m in backends):
        raise Skip("the inference proxy reports no available LLM server")
    return backends


async def _generate(ctx: Context, n: int, deadline_s: float, *, at_once: int | None = None) -> dict[str, Any]:
    """``n`` generations through Envoy, all at once or at most ``at_once`` at a time."""
    outcome: dict[str, Any] = {
        "ok": 0,
        "shed": 0,
        "errors": 0,
        "latency_ms": [],
        "overhead_ms": [],
        "drafting_ms": [],
        "storing_ms": [],
        "queue_ms": [],
        "shed_ms": [],
        "stages": {},
        "codes": {},
    }
    edge = ctx.target.envoy
    stations = [f"BG-{i:02d}" for i in range(min(n, GENERATION_STATIONS))]
    officers = {s: tuple(ctx.target.metadata(edge, WRITER, s).items()) for s in stations}
    async with grpc.aio.insecure_channel(edge) as channel:
        stub = fir_pb2_grpc.FirServiceStub(channel)

        async def one(i: int) -> None:
            station = stations[i % len(stations)]
            request = fir_pb2.GenerateFirRequest(
                text="Two men on a motorcycle snatched my phone at the bus stop near the market at 6 pm.",
                language="en",
                complainant=fir_pb2.Complainant(name=f"Bench {i}"),
                station=fir_pb2.Station(code=station, name="Bench Generation"),
            )
            started = time.perf_counter()
            try:
                fir = await stub.GenerateFir(request, timeout=deadline_s, metadata=officers[station])
            except grpc.aio.AioRpcError as exc:
                elapsed = (time.perf_counter() - started) * 1000
                if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    outcome["shed"] += 1
                    outcome["shed_ms"].append(elapsed)
                else:
                    outcome["errors"] += 1
                    outcome["codes"][exc.code().name] = outcome["codes"].get(exc.code().name, 0) + 1
                return
            elapsed = (time.perf_counter() - started) * 1000
            outcome["ok"] += 1
            outcome["latency_ms"].append(elapsed)
            stages = dict(fir.generation.stage_millis)
            for name, value in stages.items():
                outcome["stages"].setdefault(name, []).append(value)
            model, queue = _split(stages)
            outcome["overhead_ms"].append(elapsed - model - queue)
            outcome["queue_ms"].append(queue)
            if "total" in stages:  # the overhead in two: drafting, and all after and around it
                outcome["drafting_ms"].append(stages["total"] - model - queue)
                outcome["storing_ms"].append(elapsed - stages["total"])

        slots = asyncio.Semaphore(at_once or n)

        async def limited(i: int) -> None:
            async with slots:
                await one(i)

        await asyncio.gather(*(limited(i) for i in range(n)))
    return outcome


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _latency_figures(f: dict[str, float], prefix: str, outcome: dict[str, Any]) -> None:
    """End-to-end latency, overhead and queue wait (p50, p99), and each stage's p50."""
    if outcome["latency_ms"]:
        f[f"{prefix}.p50_ms"] = statistics.median(outcome["latency_ms"])
        f[f"{prefix}.p99_ms"] = _p99(outcome["latency_ms"])
        for name in ("overhead", "drafting", "storing", "queue"):
            if outcome[f"{name}_ms"]:
                f[f"{prefix}.{name}_p50_ms"] = statistics.median(outcome[f"{name}_ms"])
                f[f"{prefix}.{name}_p99_ms"] = _p99(outcome[f"{name}_ms"])
    for name, values in outcome["stages"].items():
        f[f"{prefix}.stage.{name}_p50_ms"] = statistics.median(values)


def run(ctx: Context) -> None:
    """Generations one at a time (the mesh's own overhead), then many at once (shedding, overhead
    under a queue, read isolation)."""
    models = models_available(ctx.target)
    ctx.log(f"  model servers available: {[m.get('name') for m in models]}")
    n = ctx.profile.generation_requests
    read = functools.partial(
        loadgen.ghz,
        read_calls(ctx, "envoy")["GetFir"],
        scenario="generation",
        concurrency=10,
        requests=ctx.profile.grpc_requests,
        timeout=60,
        work_dir=ctx.work_dir,
    )
    with ctx.cores_used("generation.cpu.idle"):
        idle = ctx.results.add(read(key="generation.GetFir_idle", label="GetFir envoy c=10, idle"))

    # One at a time first: what the mesh adds to one generation when nothing else waits.
    steady = asyncio.run(_generate(ctx, ctx.profile.generation_steady, 180, at_once=1))
    f = ctx.results.figures
    f["generation.steady.completed"] = float(steady["ok"])
    f["generation.steady.errors"] = float(steady["errors"] + steady["shed"])
    _latency_figures(f, "generation.steady", steady)
    if steady["overhead_ms"]:
        ctx.log(
            f"  {steady['ok']} generations one at a time: p50 {f['generation.steady.p50_ms']:.0f} ms,"
            f" overhead p50 {f['generation.steady.overhead_p50_ms']:.1f} ms,"
            f" p99 {f['generation.steady.overhead_p99_ms']:.1f} ms"
        )

    async def both() -> dict[str, Any]:
        task = asyncio.create_task(_generate(ctx, n, 180))
        await asyncio.sleep(2)  # let generation saturate the model servers first
        with ctx.cores_used("generation.cpu.during"):
            under = await asyncio.to_thread(
                read, key="generation.GetFir_under_load", label="GetFir envoy c=10 during generation"
            )
        ctx.results.add(under)
        return await task

    outcome = asyncio.run(both())
    f["generation.requests"] = float(n)
    f["generation.completed"] = float(outcome["ok"])
    f["generation.shed"] = float(outcome["shed"])
    f["generation.errors"] = float(outcome["errors"])
    _latency_figures(f, "generation", outcome)
    if outcome["codes"]:
        ctx.note(f"generation: errors by status {outcome['codes']}")
    if outcome["shed_ms"]:
        f["generation.shed_max_ms"] = max(outcome["shed_ms"])
    under = ctx.results.find("generation.GetFir_under_load")
    if under and idle.p99_ms:
        f["generation.read_p99_over_idle"] = under.p99_ms / idle.p99_ms
