"""CPU per request of each process of the mesh: what one core of each part serves.

A closed-loop ghz run through Envoy (GetFir of the hot set, ListFirs of a station, CreateFir
over 50 stations), with the CPU time (user + system, from ``/proc/<pid>/stat``, the process
and its descendants) of Envoy, fir, cache, Redis and MariaDB read before and after it. For
each process: CPU milliseconds per call, and calls a second that one core of it would serve
(calls / CPU seconds), which is how many replicas (or cores) a load needs; ``mesh`` is the sum
over all of them. The load generator's own CPU is not counted. docs/scaling.md uses them.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench import loadgen
from bench.loadgen import GrpcCall
from bench.results import Measurement
from bench.scenarios import Context, Skip
from bench.scenarios.grpc_load import create_call, read_calls

PROGRAMS = {
    "edge:envoy": "envoy",
    "services:fir": "fir",
    "services:cache": "cache",
    "infra:redis": "redis",
    "infra:mariadb": "mariadb",
}
"""supervisord program -> the name in the metrics."""
TICKS = os.sysconf("SC_CLK_TCK")
CALLS = 3000
"""Calls per measured read run (at least; the profile's ghz size if larger)."""
CREATES = 1000
"""CreateFir calls of the measured write run (about 10 ms of CPU each: enough ticks)."""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _cpu_seconds(pid: int, tree: dict[int, list[int]]) -> float:
    """User + system CPU of ``pid`` and every process below it."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
        todo.extend(tree.get(current, []))
    return total


def _pids(ctx: Context) -> dict[str, int]:
    pids = {}
    for program, name in PROGRAMS.items():
        out = ctx.target.stack.ctl("pid", program, check=False).strip()
        if not out.isdigit() or out == "0":
            raise Skip(f"no process for {program} (supervisorctl pid: {out!r})")
        pids[name] = int(out)
    return pids


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    tree = _children()
    return {name: _cpu_seconds(pid, tree) for name, pid in pids.items()}


def _measure(
    ctx: Context, pids: dict[str, int], method: str, concurrency: int, call: GrpcCall, requests: int = 0
) -> None:
    p = ctx.profile
    before = _cpu(pids)
    m: Measurement = loadgen.ghz(
        call,
        key=f"cores.{method}.load",
        label=f"{method} envoy c={concurrency} (CPU split)",
        scenario="cores",
        concurrency=concurrency,
        # Enough calls that the CPU clock (10 ms ticks) resolves a fraction of a millisecond per call.
        requests=requests or max(CALLS, p.grpc_requests),
        warmup=0,
        connections=p.connections,
        timeout=max(p.run_timeout_s, 60),
        work_dir=ctx.work_dir,
    )
    after = _cpu(pids)
    ctx.results.add(m)
    ctx.log(f"  {m.label}: {m.rps:.0f} rps, p99 {m.p99_ms:.1f} ms, errors {m.errors}/{m.count}")
    calls = m.count - m.errors
    if calls <= 0:
        return
    used = {name: after[name] - before[name] for name in pids}
    used["mesh"] = sum(used.values())
    for name, seconds in used.items():
        ctx.results.figures[f"cores.{method}.cpu_ms_per_call.{name}"] = round(seconds * 1000 / calls, 3)
        if seconds > 0:
            ctx.results.figures[f"cores.{method}.rps_per_core.{name}"] = round(calls / seconds, 1)
    shares = ", ".join(f"{name} {1000 * s / calls:.2f}" for name, s in used.items())
    ctx.log(f"  {method}: CPU ms per call: {shares}")


def run(ctx: Context) -> None:
    """GetFir, ListFirs and CreateFir through Envoy with the CPU of each process counted."""
    if not ctx.target.owned:
        raise Skip("needs the bench's own stack (its processes' CPU is read from /proc)")
    pids = _pids(ctx)
    reads = read_calls(ctx, "envoy")
    _measure(ctx, pids, "GetFir", 50, reads["GetFir"])
    _measure(ctx, pids, "ListFirs", 50, reads["ListFirs"])
    # Last in the profile: each FIR created queues its jobs (the stopped worker leaves them),
    # which the jobs scenario would otherwise have to drain first.
    _measure(ctx, pids, "CreateFir", 10, create_call(ctx, "envoy"), CREATES)
