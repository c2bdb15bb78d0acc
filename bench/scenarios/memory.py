"""Memory of the mesh without its model servers: idle, and at its peak under read load.

The processes are the stack's supervisord and every program of its ``services`` and ``edge``
groups (fir and inference replicas, cache, jobs, the jobs worker, Envoy) with their
descendants (fir's PDF children); not MariaDB, Redis, the identity provider or the model
servers. Two sums: RSS (each process's resident pages, shared libraries counted once per
process, as ``ps`` shows them) and PSS (a shared page divided among its sharers: what the
mesh takes from the machine).

Idle is read after the read scenarios, caches warm, once the jobs worker has drained every
job (the hot set's documents are rendered) and fir's renderer children have exited (they do
after ``AFIRGEN_PDF_IDLE_SECONDS`` without a render): nothing runs. The peak is the largest
sum sampled every 0.25 s during GetFir of the hot set through Envoy's REST side at 50
connections (wrk). The jobs worker is started for the measurement if the bench had stopped
it, and stopped again after.

Last, an export: every FIR listed at the largest page size ListFirs serves (500), unfiltered
and by status, page after page, up to ``Profile.wide_pages`` pages. Each page is kept in the
near cache of the fir replica that read it, so this is what bounds fir's memory in bytes:
the mesh's RSS after it (gated like the peak), fir's growth, and what the near caches hold
(``afirgen_near_cache_bytes``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pymysql
from afirgen_runtime.pagination import MAX_PAGE_SIZE

from bench import loadgen, processes
from bench.scenarios import Context, Skip

CONNECTIONS = 50
WORKER = "services:jobs-worker"
SAMPLE_S = 0.25
SETTLE_S = 180
"""At most this long for the worker to drain and the renderer children to exit."""
WIDE_PAGE_SIZE = MAX_PAGE_SIZE
"""The largest page ListFirs serves."""
WIDE_FILTERS = ("", "status = DRAFT", "status = FINALIZED")


def _wait(what: str, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + SETTLE_S
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not idle within {SETTLE_S}s: {what}")
        time.sleep(0.5)


def _active_jobs(ctx: Context) -> int:
    conn = pymysql.connect(**ctx.target.mysql_args("jobs"))  # type: ignore[arg-type]
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM jobs WHERE active = 1")
            (count,) = cur.fetchone()
    finally:
        conn.close()
    return int(count)


def _renderer_children(ctx: Context) -> int:
    """Processes below the fir replicas."""
    children = processes.tree()
    pids = processes.program_pids(ctx.target)
    firs = [pid for program, pid in pids.items() if program.startswith("services:fir")]
    return sum(len(processes.with_descendants(pid, children)) - 1 for pid in firs)


def _sum_kib(ctx: Context) -> tuple[processes.Memory, dict[str, processes.Memory]]:
    """What the mesh holds in KiB, and what each program holds (with its descendants)."""
    children = processes.tree()
    trees = {
        program: processes.with_descendants(pid, children)
        for program, pid in processes.program_pids(ctx.target).items()
    }
    supervisor = processes.supervisor_pid(ctx.target)
    if supervisor is not None:
        trees["supervisord"] = [supervisor]  # itself only: its descendants are the programs above
    per_program = {program: processes.Memory.total(map(processes.memory_kib, pids)) for program, pids in trees.items()}
    return processes.Memory.total(per_program.values()), per_program


def run(ctx: Context) -> None:
    """Idle sums, then the peak sums under 50 connections of cached GetFir."""
    if not ctx.target.owned:
        raise Skip("needs the bench's own stack (its processes are read from /proc)")
    f = ctx.results.figures
    started_worker = "RUNNING" not in ctx.target.stack.ctl("status", WORKER, check=False)
    if started_worker:
        ctx.target.stack.ctl("start", WORKER)
    try:
        _wait("the jobs worker drains the queue", lambda: _active_jobs(ctx) == 0)
        _wait("fir's renderer children exit", lambda: _renderer_children(ctx) == 0)
        idle, per_program = _sum_kib(ctx)
        f["memory.idle_rss_mib"] = round(idle.rss / 1024, 1)
        f["memory.idle_pss_mib"] = round(idle.pss / 1024, 1)
        f["memory.idle_rss_file_mib"] = round(idle.file / 1024, 1)
        for program, held in per_program.items():
            f[f"memory.idle_rss_mib.{program}"] = round(held.rss / 1024, 1)
            f[f"memory.idle_rss_file_mib.{program}"] = round(held.file / 1024, 1)
        ctx.log(
            f"  idle: RSS {idle.rss / 1024:.0f} MiB ({idle.file / 1024:.0f} MiB of it mapped from files),"
            f" PSS {idle.pss / 1024:.0f} MiB over {len(per_program)} programs"
        )
        peak = [0, 0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                now, _ = _sum_kib(ctx)
                peak[0], peak[1] = max(peak[0], now.rss), max(peak[1], now.pss)
                done.wait(SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            m = loadgen.wrk(
                ctx.target.base_url,
                [f"/v1/firs/{i}" for i in ctx.hot.finalized + ctx.hot.drafts],
                key="memory.load",
                label="GetFir REST c=50 (memory sampled)",
                scenario="memory",
                connections=CONNECTIONS,
                seconds=ctx.profile.fastapi_seconds * 2,
                max_requests=ctx.profile.rest_max_requests,
                headers=ctx.target.headers(),
                work_dir=ctx.work_dir,
            )
        finally:
            done.set()
            sampler.join()
        ctx.results.add(m)
        f["memory.load_rss_mib"] = round(peak[0] / 1024, 1)
        f["memory.load_pss_mib"] = round(peak[1] / 1024, 1)
        ctx.log(f"  under load ({m.rps:.0f} rps): peak RSS {peak[0] / 1024:.0f} MiB, PSS {peak[1] / 1024:.0f} MiB")
        _export(ctx)
    finally:
        if started_worker:
            ctx.target.stack.ctl("stop", WORKER, check=False)


def _fir_rss_kib(per_program: dict[str, processes.Memory]) -> int:
    return sum(held.rss for program, held in per_program.items() if program.startswith("services:fir"))


def near_cache_bytes(ctx: Context) -> dict[str, float]:
    """Bytes the fir replicas' near caches hold, by namespace, summed over the replicas."""
    held: dict[str, float] = {}
    for sample in ctx.fir_samples("afirgen_near_cache_bytes"):
        namespace = sample.labels["namespace"]
        held[namespace] = held.get(namespace, 0.0) + sample.value
    return held


def _export(ctx: Context) -> None:
    """Lists every FIR at the largest page size, up to ``wide_pages`` pages; RSS after it."""
    f = ctx.results.figures
    _, before = _sum_kib(ctx)
    pages = size = 0
    with httpx.Client(base_url=ctx.target.base_url, headers=ctx.target.headers(), timeout=60) as rest:
        for flt in WIDE_FILTERS:
            token = ""
            while pages < ctx.profile.wide_pages:
                params = {"page_size": str(WIDE_PAGE_SIZE), "filter": flt, "page_token": token}
                resp = rest.get("/v1/firs", params={k: v for k, v in params.items() if v})
                resp.raise_for_status()
                pages, size = pages + 1, size + len(resp.content)
                token = resp.json().get("next_page_token", "")
                if not token:
                    break
    mesh, after = _sum_kib(ctx)
    f["memory.wide_pages.pages"] = pages
    f["memory.wide_pages.rss_mib"] = round(mesh.rss / 1024, 1)
    f["memory.wide_pages.fir_growth_mib"] = round((_fir_rss_kib(after) - _fir_rss_kib(before)) / 1024, 1)
    for namespace, held in near_cache_bytes(ctx).items():
        f[f"memory.wide_pages.near_cache_mib.{namespace}"] = round(held / 2**20, 2)
    ctx.log(
        f"  an export of {pages} pages of {WIDE_PAGE_SIZE} ({size / 2**20:.0f} MiB of JSON):"
        f" RSS {mesh.rss / 1024:.0f} MiB,"
        f" fir replicas grew {f['memory.wide_pages.fir_growth_mib']:.0f} MiB"
    )
