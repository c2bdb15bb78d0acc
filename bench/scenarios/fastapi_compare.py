"""The mesh against the architecture it replaces, side by side and alternating.

GetFir through Envoy (REST, served from cache) and the FastAPI baseline's
cache-aside read of the same FIRs, at 50 connections with wrk, in alternating
rounds (the median round counts): finalized FIRs (``fastapi.ratio``) and drafts
(``fastapi.ratio_drafts``), both served by fir from its near cache; then the
first 20-FIR page of one station and of every FIR, from cache on both sides
(``fastapi.ratio_list_station``, ``fastapi.ratio_list_all``). Then GetFir of
each at half of its own maximum rate with hey, for p99, and the baseline at the
mesh's half rate too (``fastapi.p99_over_baseline_at_mesh_half``: the mesh's p99
over the baseline's at the same rate). ``fastapi.bytes.<side>`` is the size of the body each
side answers (its first path): the two sides of a ratio send the same FIRs as the same JSON.

Each round also counts the CPU time (``/proc``) of the processes that serve its side: Envoy,
fir (replicas together), cache, Redis and MariaDB for the mesh; the baseline's process, Redis
and MariaDB for the baseline. Per read, the median round:
``fastapi.cpu_us_per_read.<side>[.<process>]``, and the mesh's total over the baseline's
(``fastapi.cpu_ratio``, ``fastapi.cpu_ratio_drafts``, ``..._list_station``, ``..._list_all``).
wrk's own CPU is not counted. The baseline is one process, so it uses at most one core while
the mesh's processes use every core: the throughput ratio is kinder to the mesh than this one.

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
import urllib.parse
from collections.abc import Iterator, Mapping

import httpx

from bench import loadgen
from bench.scenarios import Context, cores
from bench.target import port_open
from scripts.devstack.config import REPO, free_port

CONNECTIONS = 50
LIST_STATION = "BN-001"
"""A seeded station (bench/seed.py): its first page is full."""
PAGE_SIZE = 20


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
def fastapi_app(ctx: Context) -> Iterator[tuple[str, int]]:
    """Run the baseline in its own process; yields its base URL and its pid."""
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
            # name=value: a generated secret may begin with "-", which argparse takes for an option
            f"--mysql-password={ctx.target.cfg.mysql_password}",
            "--redis-port",
            str(redis_port),
            f"--redis-password={redis_password}",
        ]
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_http(f"http://127.0.0.1:{port}/healthz", 30)
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _body_size(url: str, headers: dict[str, str]) -> int:
    return len(httpx.get(url, headers=headers, timeout=10).content)


def _pairs(ctx: Context, mesh: str, fastapi: str) -> dict[str, tuple[str, list[str]]]:
    """Side -> (base URL, paths); the mesh's sides first, each followed by its baseline."""
    finals = [f"/v1/firs/{i}" for i in ctx.hot.finalized]
    drafts = [f"/v1/firs/{i}" for i in ctx.hot.drafts]
    station_filter = urllib.parse.quote(f'station = "{LIST_STATION}"')
    return {
        "mesh": (mesh, finals),
        "fastapi": (fastapi, finals),
        "mesh_drafts": (mesh, drafts),
        "fastapi_drafts": (fastapi, drafts),
        "mesh_list_station": (mesh, [f"/v1/firs?page_size={PAGE_SIZE}&filter={station_filter}"]),
        "fastapi_list_station": (fastapi, [f"/v1/firs?page_size={PAGE_SIZE}&station={LIST_STATION}"]),
        "mesh_list_all": (mesh, [f"/v1/firs?page_size={PAGE_SIZE}"]),
        "fastapi_list_all": (fastapi, [f"/v1/firs?page_size={PAGE_SIZE}"]),
    }


PARTS = {
    "mesh": ("envoy", "fir", "cache", "redis", "mariadb"),
    "fastapi": ("fastapi", "redis", "mariadb"),
}
"""The processes that serve a side's reads (by the prefix of the side's name), whose CPU is
counted per read: fir's replicas together, the baseline's one process."""

RATIOS = {
    "fastapi.ratio": ("mesh", "fastapi"),
    "fastapi.ratio_drafts": ("mesh_drafts", "fastapi_drafts"),
    "fastapi.ratio_list_station": ("mesh_list_station", "fastapi_list_station"),
    "fastapi.ratio_list_all": ("mesh_list_all", "fastapi_list_all"),
}


def _parts(side: str) -> tuple[str, ...]:
    return PARTS["mesh" if side.startswith("mesh") else "fastapi"]


def per_read_us(used: Mapping[str, float], parts: tuple[str, ...], reads: int) -> dict[str, float]:
    """Microseconds of CPU per read of each of ``parts`` (CPU seconds ``used`` over ``reads``
    reads), and their sum as ``total``."""
    each = {part: used.get(part, 0.0) * 1e6 / max(reads, 1) for part in parts}
    return each | {"total": sum(each.values())}


def _cpu_figures(ctx: Context, cpu: dict[str, list[dict[str, float]]]) -> None:
    """``fastapi.cpu_us_per_read.<side>[.<part>]`` (median of the rounds) and, for each ratio of
    RATIOS, the mesh's CPU per read over the baseline's (``fastapi.cpu_ratio...``)."""
    f = ctx.results.figures
    for side, rounds in cpu.items():
        medians = {part: round(statistics.median(each[part] for each in rounds), 1) for part in rounds[0]}
        for part, value in medians.items():
            f[f"fastapi.cpu_us_per_read.{side}" + ("" if part == "total" else f".{part}")] = value
        ctx.log(f"  {side}: CPU per read (us): " + ", ".join(f"{k} {v:.0f}" for k, v in medians.items()))
    for name, (mesh_side, base_side) in RATIOS.items():
        mesh, base = f[f"fastapi.cpu_us_per_read.{mesh_side}"], f[f"fastapi.cpu_us_per_read.{base_side}"]
        f[name.replace("ratio", "cpu_ratio", 1)] = round(mesh / max(base, 1e-6), 3)


def run(ctx: Context) -> None:
    """Alternating max-throughput rounds, then p99 at half of each side's maximum."""
    p, r, f = ctx.profile, ctx.results, ctx.results.figures
    plain = {"Accept-Encoding": "identity"}
    reader = ctx.target.headers() | plain
    with fastapi_app(ctx) as (fastapi_url, fastapi_pid):
        sides = _pairs(ctx, ctx.target.base_url, fastapi_url)

        def headers_of(side: str) -> dict[str, str]:
            return reader if side.startswith("mesh") else plain

        for side, (base, paths) in sides.items():  # warm every cache: one read of each path
            for path in paths:
                httpx.get(base + path, headers=headers_of(side), timeout=30).raise_for_status()
        for side, (base, paths) in sides.items():  # what each side sends: the sides of a ratio should match
            f[f"fastapi.bytes.{side}"] = float(_body_size(base + paths[0], headers_of(side)))
        ctx.log("  body bytes: " + ", ".join(f"{side} {f[f'fastapi.bytes.{side}']:.0f}" for side in sides))
        rps: dict[str, list[float]] = {side: [] for side in sides}
        cpu: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
        baseline = {"fastapi": fastapi_pid}
        for rnd in range(p.fastapi_rounds):
            for side, (base, paths) in sides.items():
                before = cores.cpu_by_part(ctx, baseline)
                m = loadgen.wrk(
                    base,
                    paths,
                    key=f"fastapi.{side}.round{rnd + 1}",
                    label=f"{side} round {rnd + 1}",
                    scenario="fastapi",
                    connections=CONNECTIONS,
                    seconds=p.fastapi_seconds,
                    max_requests=p.rest_max_requests,
                    headers=headers_of(side),
                    work_dir=ctx.work_dir,
                )
                used = cores.used_between(before, cores.cpu_by_part(ctx, baseline))
                r.add(m)
                rps[side].append(m.rps)
                cpu[side].append(per_read_us(used, _parts(side), m.count))
                ctx.log(f"  {m.label}: {m.rps:.0f} rps, p99 {m.p99_ms:.1f} ms, errors {m.errors}")
        best = {side: statistics.median(values) for side, values in rps.items()}
        for side, value in best.items():
            f[f"fastapi.max_rps.{side}"] = value
        for name, (mesh_side, base_side) in RATIOS.items():
            f[name] = best[mesh_side] / max(best[base_side], 1e-6)
        _cpu_figures(ctx, cpu)
        rates = {"mesh": best["mesh"] / 2, "fastapi": best["fastapi"] / 2, "fastapi_at_mesh_half": best["mesh"] / 2}
        for key, rate in rates.items():
            side = "mesh" if key == "mesh" else "fastapi"
            base, paths = sides[side]
            m = loadgen.hey(
                base + paths[0],
                key=f"fastapi.half.{key}",
                label=f"{key} @ {rate:.0f} rps (half of a maximum)",
                scenario="fastapi",
                connections=CONNECTIONS,
                rate=rate,
                seconds=p.fastapi_seconds,
                headers=headers_of(side),
            )
            r.add(m)
            f[f"fastapi.p99_at_half_ms.{key}"] = m.p99_ms
            ctx.log(f"  {m.label}: {m.rps:.0f} rps, p50 {m.p50_ms:.2f} ms, p99 {m.p99_ms:.2f} ms")
        f["fastapi.p99_over_baseline_at_mesh_half"] = f["fastapi.p99_at_half_ms.mesh"] / max(
            f["fastapi.p99_at_half_ms.fastapi_at_mesh_half"], 1e-3
        )
    ctx.log(
        "  mesh/FastAPI throughput: "
        + ", ".join(f"{name.removeprefix('fastapi.')} {f[name]:.2f}" for name in RATIOS)
        + f"; p99 at the mesh's half rate {f['fastapi.p99_over_baseline_at_mesh_half']:.2f}x the baseline's"
    )
