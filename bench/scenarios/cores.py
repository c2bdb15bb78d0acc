"""CPU per request of each process of the mesh: what one core of each part serves.

A closed-loop ghz run through Envoy (GetFir of the hot set, ListFirs of a station, CreateFir
over 50 stations), with the CPU time (user + system, from ``/proc/<pid>/stat``, the process
and its descendants) of Envoy, fir (its replicas together), cache, Redis and MariaDB read
before and after it. For each process: CPU milliseconds per call, and calls a second that one
core of it would serve (calls / CPU seconds), which is how many replicas (or cores) a load
needs; ``mesh`` is the sum over all of them. The load generator's own CPU is not counted. docs/scaling.md uses them.
"""

from __future__ import annotations

from collections.abc import Mapping

from bench import loadgen, processes
from bench.loadgen import GrpcCall
from bench.results import Measurement
from bench.scenarios import Context, Skip
from bench.scenarios.grpc_load import create_call, read_calls

NAMES = {
    "edge:envoy": "envoy",
    "services:fir": "fir",
    "services:fir-2": "fir",
    "services:cache": "cache",
    "infra:redis": "redis",
    "infra:mariadb": "mariadb",
}
"""supervisord program -> the name in the metrics (the replicas of a service count as one)."""
CALLS = 3000
"""Calls per measured read run (at least; the profile's ghz size if larger)."""
CREATES = 1000
"""CreateFir calls of the measured write run (about 10 ms of CPU each: enough ticks)."""


def _check_running(ctx: Context) -> None:
    running = processes.program_pids(ctx.target, ("edge", "services", "infra"))
    for program in ("edge:envoy", "services:fir", "services:cache", "infra:redis", "infra:mariadb"):
        if program not in running:
            raise Skip(f"no process for {program}")


def cpu_by_part(ctx: Context, others: Mapping[str, int] | None = None) -> dict[str, float]:
    """CPU seconds so far of each process of NAMES, replicas and descendants together, and of
    each process of ``others`` (name -> pid, with its descendants; one that is gone counts 0)."""
    used: dict[str, float] = {}
    for program, seconds in processes.program_cpu(ctx.target, ("edge", "services", "infra")).items():
        name = NAMES.get(program.split("/")[0])
        if name is not None:
            used[name] = used.get(name, 0.0) + seconds
    if others:
        children = processes.tree()
        for name, pid in others.items():
            used[name] = processes.cpu_seconds(pid, children)
    return used


def used_between(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """CPU seconds each part of two :func:`cpu_by_part` readings used in between (a part that
    restarted meanwhile counts nothing rather than less than nothing)."""
    return {name: max(0.0, seconds - before.get(name, 0.0)) for name, seconds in after.items()}


def _measure(ctx: Context, method: str, concurrency: int, call: GrpcCall, requests: int = 0) -> None:
    p = ctx.profile
    # Only this run's calls may be counted: the CreateFirs of the scenarios before leave MariaDB
    # and fir busy for a while (in one full run GetFir was charged 0.29 ms of MariaDB a call,
    # against none on a quiet stack).
    waited, cores = processes.wait_quiet(ctx.target)
    if cores >= processes.QUIET_CORES:
        ctx.note(f"cores: {method} measured while the stack still used {cores:.2f} cores of background work")
    elif waited > 5:
        ctx.log(f"  waited {waited:.0f} s for background work to finish")
    before = cpu_by_part(ctx)
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
    after = cpu_by_part(ctx)
    ctx.results.add(m)
    ctx.log(f"  {m.label}: {m.rps:.0f} rps, p99 {m.p99_ms:.1f} ms, errors {m.errors}/{m.count}")
    calls = m.count - m.errors
    if calls <= 0:
        return
    used = used_between(before, after)
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
    _check_running(ctx)
    reads = read_calls(ctx, "envoy")
    _measure(ctx, "GetFir", 50, reads["GetFir"])
    _measure(ctx, "ListFirs", 50, reads["ListFirs"])
    # Last in the profile: each FIR created queues its jobs (the stopped worker leaves them),
    # which the jobs scenario would otherwise have to drain first.
    _measure(ctx, "CreateFir", 10, create_call(ctx, "envoy"), CREATES)
