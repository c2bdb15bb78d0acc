"""GetFir latency with and without the cache, and the hit ratio of a read-heavy workload.

    .venv/bin/python -m bench.cache_getfir [--firs 200] [--ops 3000]

Starts its own stack on free ports (like the tests), plus a second fir process
with caching off on the same database, then measures, sequentially (one
request at a time, so the numbers are latencies, not queueing):

- GetFir miss (first read of each FIR), hit (later reads), and the uncached fir;
- the same with Redis stopped (the circuit open) and while it is failing;
- a read-heavy mix (95 % GetFir over a skewed key set, 5 % edits) with a few
  concurrent clients, and its hit ratio from ``GET /v1/cache:stats``.

Both through Envoy (REST, what users see) and straight to fir over gRPC. Reads are
made as an auditor, creates and edits as the station house officer of the FIR's
station, ``/v1/cache:stats`` as an operator (tokens through Envoy, the claims
header straight to fir: see bench/target.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc

from bench.target import OPERATOR, WRITER, Target, running_target
from scripts.devstack.config import StackConfig, free_port
from scripts.devstack.supervisor import programs
from tests.e2e.fir_helpers import fir_body

STATIONS = 10


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def row(name: str, values: list[float]) -> str:
    return f"{name:<44} n={len(values):<5} p50={pct(values, 0.5):7.2f} ms  p99={pct(values, 0.99):7.2f} ms"


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


def start_uncached_fir(cfg: StackConfig) -> tuple[subprocess.Popen[bytes], int]:
    """A second fir process with caching off, on the same database."""
    (fir,) = [p for p in programs(cfg) if p.name == "fir"]
    port = free_port()
    env = os.environ | fir.env | {"AFIRGEN_SERVER_PORT": str(port), "AFIRGEN_CACHE_TARGET": ""}
    env["AFIRGEN_SERVER_METRICS_PORT"] = str(free_port())
    log = open(cfg.run_dir / "logs" / "fir-uncached.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(shlex.split(fir.command), env=env, stdout=log, stderr=log)
    return proc, port


async def wait_serving(stub: fir_pb2_grpc.FirServiceStub, metadata: tuple[tuple[str, str], ...]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            await stub.ListFirs(fir_pb2.ListFirsRequest(page_size=1), timeout=1, metadata=metadata)
            return
        except grpc.aio.AioRpcError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def fir_hits(rest: httpx.AsyncClient, operator: dict[str, str]) -> tuple[int, int]:
    body = (await rest.get("/v1/cache:stats", headers=operator)).json()
    fir = next(n for n in body["namespaces"] if n["namespace"] == "fir")
    return int(fir.get("hits", 0)), int(fir.get("misses", 0))


async def measure(target: Target, firs: int, ops: int) -> None:
    stack, cfg = target.stack, target.cfg
    proc, uncached_port = start_uncached_fir(cfg)
    cached = grpc.aio.insecure_channel(target.fir)
    uncached = grpc.aio.insecure_channel(f"127.0.0.1:{uncached_port}")
    direct, plain = fir_pb2_grpc.FirServiceStub(cached), fir_pb2_grpc.FirServiceStub(uncached)
    # Straight to fir (either process) the reader's claims; through Envoy an auditor's token.
    claims = tuple(target.metadata(target.fir).items())
    officers = {s: target.headers(WRITER, f"BENCH{s}") for s in range(STATIONS)}
    operator = target.headers(OPERATOR)
    async with httpx.AsyncClient(base_url=cfg.base_url, timeout=30, headers=target.headers()) as rest:
        try:
            await wait_serving(plain, claims)
            # Every write enqueues document rendering, which the worker delivers
            # back to fir: stopped, so both fir processes measure idle.
            stack.ctl("stop", "services:jobs-worker")
            ids = []
            for i in range(firs):
                resp = await rest.post(
                    "/v1/firs", json=fir_body(f"BENCH{i % STATIONS}"), headers=officers[i % STATIONS]
                )
                resp.raise_for_status()
                ids.append(resp.json()["id"])
            station_of = {fir_id: i % STATIONS for i, fir_id in enumerate(ids)}

            def get_rest(fir_id: str) -> Callable[[], Awaitable[Any]]:
                async def call() -> None:
                    assert (await rest.get(f"/v1/firs/{fir_id}")).status_code == 200

                return call

            def get_grpc(stub: fir_pb2_grpc.FirServiceStub, fir_id: str) -> Callable[[], Awaitable[Any]]:
                return lambda: stub.GetFir(fir_pb2.GetFirRequest(id=fir_id), metadata=claims)

            half = len(ids) // 2
            rest_ids, grpc_ids = ids[:half], ids[half:]
            results: dict[str, list[float]] = {}

            def add(name: str, value: float) -> None:
                results.setdefault(name, []).append(value)

            # Cached and uncached calls alternate, so that both see the same machine load.
            for i in rest_ids:
                add("REST via Envoy: miss (first read)", await timed(get_rest(i)))
            for _ in range(2):
                for i in rest_ids:
                    add("REST via Envoy: hit", await timed(get_rest(i)))
            for i in grpc_ids:
                add("gRPC to fir: miss (first read)", await timed(get_grpc(direct, i)))
                add("gRPC to fir without cache", await timed(get_grpc(plain, i)))
            for _ in range(2):
                for i in grpc_ids:
                    add("gRPC to fir: hit", await timed(get_grpc(direct, i)))
                    add("gRPC to fir without cache", await timed(get_grpc(plain, i)))

            # Lists and statistics: each (filter, size/days) is its own entry; first call misses.
            for station in range(STATIONS):
                for size in (5, 10, 20, 50):
                    params = {"filter": f'station = "BENCH{station}"', "page_size": size}

                    async def listed(params: dict[str, Any] = params) -> None:
                        assert (await rest.get("/v1/firs", params=params)).status_code == 200

                    add("REST ListFirs: miss", await timed(listed))
                    add("REST ListFirs: hit", await timed(listed))
            for days in range(1, 41):
                params = {"days": days}

                async def stats(params: dict[str, Any] = params) -> None:
                    assert (await rest.get("/v1/firs:stats", params=params)).status_code == 200

                add("REST GetFirStats (whole table): miss", await timed(stats))
                add("REST GetFirStats (whole table): hit", await timed(stats))

            stack.ctl("stop", "infra:redis")
            try:
                for i in grpc_ids[:10]:
                    add("gRPC to fir, Redis down: first 10 calls", await timed(get_grpc(direct, i)))
                for _ in range(2):
                    for i in grpc_ids:
                        add("gRPC to fir, Redis down: circuit open", await timed(get_grpc(direct, i)))
                        add("gRPC to fir without cache (same period)", await timed(get_grpc(plain, i)))
                for i in rest_ids:
                    add("REST via Envoy, Redis down", await timed(get_rest(i)))
            finally:
                stack.ctl("start", "infra:redis")

            # Redis is back: let the circuit close, then a read-heavy mix.
            await asyncio.sleep(3)
            for i in ids[:5]:
                await get_rest(i)()
            weights = [1 / (rank + 1) for rank in range(len(ids))]  # Zipf-like popularity
            rng = random.Random(1)
            before = await fir_hits(rest, operator)
            mix: list[float] = []
            edits = 0

            async def client(n: int) -> None:
                nonlocal edits
                for _ in range(n):
                    fir_id = rng.choices(ids, weights)[0]
                    if rng.random() < 0.05:
                        current = (await rest.get(f"/v1/firs/{fir_id}", params={"read_mask": "etag"})).json()
                        await rest.patch(
                            f"/v1/firs/{fir_id}",
                            params={"update_mask": "summary"},
                            json={"etag": current["etag"], "summary": f"edit {rng.random():.6f}"},
                            headers=officers[station_of[fir_id]],
                        )
                        edits += 1
                    else:
                        mix.append(await timed(get_rest(fir_id)))

            await asyncio.gather(*(client(ops // 4) for _ in range(4)))
            after = await fir_hits(rest, operator)
            hits, misses = after[0] - before[0], after[1] - before[1]
            results["REST via Envoy: read-heavy mix, 4 clients"] = mix
        finally:
            proc.terminate()
            proc.wait(20)
            await cached.close()
            await uncached.close()

    for name, values in results.items():
        print(row(name, values))
    ratio = hits / max(1, hits + misses)
    print(f"read-heavy mix: {len(mix)} reads, {edits} edits; fir namespace hit ratio {ratio:.3f}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firs", type=int, default=200)
    parser.add_argument("--ops", type=int, default=3000)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="afirgen-bench-") as tmp,
        running_target(Path(tmp), attach=False) as target,
    ):
        asyncio.run(measure(target, args.firs, args.ops))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
