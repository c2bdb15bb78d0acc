"""The mesh against the architecture it replaces, side by side and alternating.

GetFir through Envoy (REST, served from cache) and the FastAPI baseline's
cache-aside read of the same FIRs, at 50 connections with wrk, in alternating
rounds (the median round counts); then each at half of its own maximum rate
with hey, for p99. The headline compares finalized FIRs (the fir service keeps
them in process); drafts (read through the cache service) are reported too.

The mesh is called as deployed, with an auditor's access token that Envoy verifies
on every request; the baseline has no authentication. That difference is part of
the comparison: what the mesh costs as it must run, against the monolith it replaces.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from bench import loadgen
from bench.scenarios import Context
from bench.target import port_open
from scripts.devstack.config import REPO, free_port

CONNECTIONS = 50


def _wait_http(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f}s")


@contextlib.contextmanager
def _redis(ctx: Context) -> Iterator[tuple[int, str]]:
    """Port and password of the stack's Redis, or of a private one (no password) when the stack has none."""
    if port_open(ctx.target.cfg.redis_port):
        yield ctx.target.cfg.redis_port, ctx.target.cfg.redis_password
        return
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    ctx.results.notes.append("fastapi: the stack has no Redis; the baseline used a private redis-server")
    try:
        yield port, ""
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def fastapi_app(ctx: Context) -> Iterator[str]:
    """Run the baseline in its own process; yields its base URL."""
    port = free_port()
    log = (ctx.work_dir / "fastapi.log").open("w")
    with _redis(ctx) as (redis_port, redis_password):
        cmd = [
            sys.executable,
            "-m",
            "bench.baseline_fastapi",
            "--port",
            str(port),
            "--mysql-port",
            str(ctx.target.cfg.mysql_port),
            "--mysql-password",
            ctx.target.cfg.mysql_password,
            "--redis-port",
            str(redis_port),
            "--redis-password",
            redis_password,
        ]
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_http(f"http://127.0.0.1:{port}/healthz", 30)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _body_size(url: str, headers: dict[str, str]) -> int:
    return len(httpx.get(url, headers=headers, timeout=10).content)


def run(ctx: Context) -> None:
    """Alternating max-throughput rounds, then p99 at half of each side's maximum."""
    p, r, f = ctx.profile, ctx.results, ctx.results.figures
    final_paths = [f"/v1/firs/{i}" for i in ctx.hot.finalized]
    draft_paths = [f"/v1/firs/{i}" for i in ctx.hot.drafts]
    plain = {"Accept-Encoding": "identity"}
    reader = ctx.target.headers() | plain
    with fastapi_app(ctx) as fastapi_url:
        sides = {
            "mesh": (ctx.target.base_url, final_paths, reader),
            "mesh_drafts": (ctx.target.base_url, draft_paths, reader),
            "fastapi": (fastapi_url, final_paths, plain),
        }
        for base, paths, headers in sides.values():  # warm every cache: one read of each FIR
            for path in paths:
                httpx.get(base + path, headers=headers, timeout=10).raise_for_status()
        f["fastapi.bytes.mesh"] = float(_body_size(ctx.target.base_url + final_paths[0], reader))
        f["fastapi.bytes.fastapi"] = float(_body_size(fastapi_url + final_paths[0], plain))
        rps: dict[str, list[float]] = {side: [] for side in sides}
        for rnd in range(p.fastapi_rounds):
            for side, (base, paths, headers) in sides.items():
                m = loadgen.wrk(
                    base,
                    paths,
                    key=f"fastapi.{side}.round{rnd + 1}",
                    label=f"{side} round {rnd + 1}",
                    scenario="fastapi",
                    connections=CONNECTIONS,
                    seconds=p.fastapi_seconds,
                    max_requests=p.rest_max_requests,
                    headers=headers,
                    work_dir=ctx.work_dir,
                )
                r.add(m)
                rps[side].append(m.rps)
                ctx.log(f"  {m.label}: {m.rps:.0f} rps, p99 {m.p99_ms:.1f} ms, errors {m.errors}")
        best = {side: statistics.median(values) for side, values in rps.items()}
        for side, value in best.items():
            f[f"fastapi.max_rps.{side}"] = value
        f["fastapi.ratio"] = best["mesh"] / max(best["fastapi"], 1e-6)
        f["fastapi.ratio_drafts"] = best["mesh_drafts"] / max(best["fastapi"], 1e-6)
        for side in ("mesh", "fastapi"):
            base, paths, headers = sides[side]
            half = best[side] / 2
            m = loadgen.hey(
                base + paths[0],
                key=f"fastapi.half.{side}",
                label=f"{side} @ half max ({half:.0f} rps)",
                scenario="fastapi",
                connections=CONNECTIONS,
                rate=half,
                seconds=p.fastapi_seconds,
                headers=headers,
            )
            r.add(m)
            f[f"fastapi.p99_at_half_ms.{side}"] = m.p99_ms
            ctx.log(f"  {m.label}: {m.rps:.0f} rps, p50 {m.p50_ms:.2f} ms, p99 {m.p99_ms:.2f} ms")
    ctx.log(f"  mesh/FastAPI throughput ratio {f['fastapi.ratio']:.2f} (drafts {f['fastapi.ratio_drafts']:.2f})")
