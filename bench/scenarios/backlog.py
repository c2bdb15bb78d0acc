"""Reads while the jobs service drains a backlog: GetFir through Envoy at a fixed rate,
idle and then while the worker drains ``backlog_jobs`` mixed FIR jobs, against the issue's
isolation target (p99 draining <= 1.5x p99 idle).

The backlog is what a burst of writes leaves behind: documents to render (of FIRs that have
none yet, so each is real work), finalization notices, and count repairs, enqueued the way
the fir service enqueues them (straight to the jobs service over gRPC). In the bench's own
stack the worker is stopped while they are enqueued and started for the measurement; with
``--attach`` the running worker starts on them at once. The rate is half of the idle
closed-loop maximum at concurrency 50, as the other fixed-rate runs of the harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import grpc
import pymysql
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from afirgen_fir.settings import FirSettings
from google.protobuf import struct_pb2

from bench.scenarios import Context, Skip
from bench.scenarios.grpc_load import fixed_rate, level, read_calls
from chaos.webhooks import WebhookServer

WORKER = "services:jobs-worker"
MIX = (("fir.render_document", 6, 5), ("fir.notify_finalized", 2, 7), ("fir.rollup_stats", 2, 2))
"""Job types, their share of every ten jobs, and the priority the fir service gives them."""


def _jobs(ctx: Context, count: int, run: str) -> list[jobs_pb2.CreateJobRequest]:
    """``count`` jobs of the mix over seeded FIRs (renders of FIRs without a document)."""
    renders = count * MIX[0][1] // 10
    minutes = FirSettings.numbering_utc_offset_minutes
    conn = pymysql.connect(**ctx.target.mysql_args())  # type: ignore[arg-type]
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT f.id, f.station_code, DATE(f.created_at + INTERVAL %s MINUTE) FROM firs f"
                " LEFT JOIN fir_documents d ON d.fir_id = f.id"
                " WHERE f.station_code LIKE 'BN-%%' AND d.fir_id IS NULL ORDER BY f.pk DESC LIMIT %s",
                (minutes, renders),
            )
            firs = list(cur.fetchall())
    finally:
        conn.close()
    if len(firs) < renders:
        raise Skip(f"only {len(firs)} seeded FIRs without a document, {renders} needed")
    finalized = ctx.hot.finalized or [fir_id for fir_id, _, _ in firs]
    out = []
    for i in range(count):
        kind = i % 10
        payload: dict[str, Any]
        if kind < MIX[0][1]:
            (job_type, _, priority), payload = MIX[0], {"fir_id": firs[(i // 10) * MIX[0][1] + kind][0]}
        elif kind < MIX[0][1] + MIX[1][1]:
            (job_type, _, priority), payload = MIX[1], {"fir_id": finalized[i % len(finalized)]}
        else:
            _, station, day = firs[i % len(firs)]
            (job_type, _, priority), payload = MIX[2], {"station": station, "day": day.isoformat()}
        struct = struct_pb2.Struct()
        struct.update(payload)
        key = f"bench-backlog-{run}-{i}"
        job = jobs_pb2.Job(type=job_type, payload=struct, priority=priority, idempotency_key=key)
        out.append(jobs_pb2.CreateJobRequest(job=job))
    return out


async def _enqueue(address: str, requests: list[jobs_pb2.CreateJobRequest]) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = jobs_pb2_grpc.JobServiceStub(channel)
        for start in range(0, len(requests), 50):
            await asyncio.gather(*(stub.CreateJob(r, timeout=30) for r in requests[start : start + 50]))


def _live(ctx: Context, run: str) -> dict[str, int]:
    """Our jobs by state: queued or retrying, running, finished."""
    conn = pymysql.connect(**ctx.target.mysql_args("jobs"))  # type: ignore[arg-type]
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT SUM(active = 1 AND lease_token IS NULL), SUM(active = 1 AND lease_token IS NOT NULL),"
                " SUM(active = 0) FROM jobs WHERE idempotency_key LIKE %s",
                (f"bench-backlog-{run}-%",),
            )
            waiting, running, done = cur.fetchone()
    finally:
        conn.close()
    return {"waiting": int(waiting or 0), "running": int(running or 0), "done": int(done or 0)}


def run(ctx: Context) -> None:
    """Idle p99, enqueue the backlog, p99 while it drains (finalization notices go to a
    webhook receiver on the stack's webhook port, which answers every one)."""
    count = ctx.profile.backlog_jobs
    if not count:
        raise Skip("this profile enqueues no backlog")
    port = ctx.target.cfg.webhook_port
    with WebhookServer(port, ctx.target.cfg.webhook_secret) if port else contextlib.nullcontext():
        _run(ctx, count)


def _run(ctx: Context, count: int) -> None:
    call = read_calls(ctx, "envoy")["GetFir"]
    peak = level(ctx, call, "backlog.GetFir.c50_idle", "GetFir envoy c=50, idle", 50, "backlog")
    rate = max(10.0, peak.rps / 2)
    with ctx.cores_used("backlog.cpu.idle"):
        idle = fixed_rate(ctx, call, "backlog.GetFir.idle", f"GetFir envoy {rate:.0f}/s, idle", rate, "backlog")
    run_id = uuid.uuid4().hex[:8]
    requests = _jobs(ctx, count, run_id)
    started = time.monotonic()
    asyncio.run(_enqueue(f"127.0.0.1:{ctx.target.cfg.jobs_port}", requests))
    ctx.log(f"  enqueued {count} jobs in {time.monotonic() - started:.1f}s: {_live(ctx, run_id)}")
    if ctx.target.owned:
        ctx.target.stack.ctl("start", WORKER)
    try:
        deadline = time.monotonic() + 30
        while _live(ctx, run_id)["running"] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        before = _live(ctx, run_id)
        started = time.monotonic()
        with ctx.cores_used("backlog.cpu.draining"):
            draining = fixed_rate(
                ctx, call, "backlog.GetFir.draining", f"GetFir envoy {rate:.0f}/s, backlog draining", rate, "backlog"
            )
        under = level(ctx, call, "backlog.GetFir.c50_draining", "GetFir envoy c=50, backlog draining", 50, "backlog")
        elapsed = time.monotonic() - started
        after = _live(ctx, run_id)
    finally:
        if ctx.target.owned:
            ctx.target.stack.ctl("stop", WORKER, check=False)
    _figures(ctx, idle.p99_ms, draining.p99_ms, peak.rps, under.rps, before, after, elapsed)


def _figures(
    ctx: Context,
    idle_p99: float,
    draining_p99: float,
    idle_rps: float,
    draining_rps: float,
    before: dict[str, Any],
    after: dict[str, Any],
    elapsed: float,
) -> None:
    f = ctx.results.figures
    f["backlog.jobs"] = float(ctx.profile.backlog_jobs)
    f["backlog.jobs_done_during_reads"] = float(after["done"] - before["done"])
    f["backlog.jobs_per_s"] = (after["done"] - before["done"]) / max(elapsed, 1e-3)
    f["backlog.jobs_left_after_reads"] = float(after["waiting"] + after["running"])
    if idle_p99:
        f["backlog.read_p99_over_idle"] = draining_p99 / idle_p99
    if idle_rps:
        f["backlog.read_rps_c50_over_idle"] = draining_rps / idle_rps
    ctx.log(
        f"  p99 {draining_p99:.1f} ms draining vs {idle_p99:.1f} ms idle"
        f" ({f.get('backlog.read_p99_over_idle', 0):.2f}x); {f['backlog.jobs_done_during_reads']:.0f} jobs done"
        f" while reading, {f['backlog.jobs_left_after_reads']:.0f} left"
    )
    if not after["waiting"] and not after["running"]:
        ctx.note("backlog: the backlog was drained before the reads ended; part of the run measured an idle mesh")
