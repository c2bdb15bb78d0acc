"""The jobs queue: enqueue latency, jobs per second through the stack's worker, and the
time from enqueue to start when the worker is idle (its wake-up signal, not its poll).

Jobs are ``fir.rollup_stats`` of a station without FIRs: idempotent, cheap, delivered to
the fir service like every FIR job, so the figures are the queue's own cost. They run at
the highest priority, ahead of the document renders the bench's writes queued. Enqueues
go straight to the jobs service, as the fir service's outbox relay sends them.

In the bench's own stack the worker is stopped (``cli.prepare``): the jobs enqueued first
wait, then the worker starts and drains them (throughput), and is stopped again at the end.
Times come from the jobs service's own records (create time, attempt start and end).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import grpc
from afirgen.jobs.v1 import jobs_pb2, jobs_pb2_grpc
from google.protobuf import struct_pb2

from bench.results import Measurement
from bench.scenarios import Context

JOB_TYPE = "fir.rollup_stats"
STATION = "BENCH-JOBS"
PRIORITY = 9
WORKER = "services:jobs-worker"


def _request(run: str, n: int) -> jobs_pb2.CreateJobRequest:
    payload = struct_pb2.Struct()
    payload.update({"day": datetime.now(UTC).date().isoformat(), "station": STATION})
    job = jobs_pb2.Job(type=JOB_TYPE, payload=payload, priority=PRIORITY, idempotency_key=f"bench-{run}-{n}")
    return jobs_pb2.CreateJobRequest(job=job)


async def _succeeded(stub: jobs_pb2_grpc.JobServiceStub, ids: list[str], within: float) -> list[jobs_pb2.Job]:
    """The jobs once every one SUCCEEDED (RuntimeError naming the rest after ``within`` seconds)."""
    deadline = time.monotonic() + within
    while True:
        jobs = [await stub.GetJob(jobs_pb2.GetJobRequest(id=i), timeout=10) for i in ids]
        if all(j.status == jobs_pb2.JOB_STATUS_SUCCEEDED for j in jobs):
            return jobs
        if time.monotonic() > deadline:
            pending = sorted({jobs_pb2.JobStatus.Name(j.status) for j in jobs})
            raise RuntimeError(f"jobs not all SUCCEEDED after {within:.0f}s: {pending}")
        await asyncio.sleep(0.1)


async def _idle(stub: jobs_pb2_grpc.JobServiceStub, within: float) -> None:
    """Wait until nothing runs and nothing queued is due (the documents of earlier writes rendered)."""
    deadline = time.monotonic() + within
    while True:
        running = await stub.ListJobs(jobs_pb2.ListJobsRequest(page_size=1, filter="status = RUNNING"), timeout=10)
        queued = await stub.ListJobs(jobs_pb2.ListJobsRequest(page_size=500, filter="status = QUEUED"), timeout=10)
        now = datetime.now(UTC)
        if not running.total_size and all(j.run_time.ToDatetime(tzinfo=UTC) > now for j in queued.jobs):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker was still busy after {within:.0f}s")
        await asyncio.sleep(0.2)


def _ms(later: object, earlier: object) -> float:
    return (later.ToDatetime() - earlier.ToDatetime()).total_seconds() * 1000  # type: ignore[attr-defined]


async def _measure(ctx: Context, worker: Callable[[str], Awaitable[None]]) -> None:
    results, run = ctx.results, uuid.uuid4().hex[:8]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{ctx.target.cfg.jobs_port}") as channel:
        stub = jobs_pb2_grpc.JobServiceStub(channel)
        enqueue_ms, ids = [], []
        for n in range(ctx.profile.jobs_per_run):
            started = time.perf_counter()
            job = await stub.CreateJob(_request(run, n), timeout=10)
            enqueue_ms.append((time.perf_counter() - started) * 1000)
            ids.append(job.id)
        enqueued = Measurement.from_samples("jobs", "jobs.enqueue", "CreateJob to jobs", "grpc.aio", enqueue_ms)
        results.add(enqueued)

        await worker("start")
        try:
            drained = await _succeeded(stub, ids, ctx.profile.run_timeout_s * 3)
            first = min((j.attempts[0] for j in drained), key=lambda a: a.start_time.ToDatetime())
            last = max((j.attempts[-1] for j in drained), key=lambda a: a.end_time.ToDatetime())
            seconds = _ms(last.end_time, first.start_time) / 1000
            results.figures["jobs.throughput_per_s"] = len(drained) / max(seconds, 1e-3)

            wake_ms = []
            for n in range(ctx.profile.jobs_wake_samples):
                await _idle(stub, ctx.profile.run_timeout_s * 3)
                job = await stub.CreateJob(_request(run, ctx.profile.jobs_per_run + n), timeout=10)
                (done,) = await _succeeded(stub, [job.id], ctx.profile.run_timeout_s)
                wake_ms.append(_ms(done.attempts[0].start_time, done.create_time))
            results.add(Measurement.from_samples("jobs", "jobs.wake", "enqueue to start, idle worker", "jobs", wake_ms))
        finally:
            await worker("stop")
    ctx.log(
        f"  enqueue p50 {results.find('jobs.enqueue').p50_ms:.1f} ms;"  # type: ignore[union-attr]
        f" {results.figures['jobs.throughput_per_s']:.0f} jobs/s through one worker;"
        f" idle wake-up p50 {results.find('jobs.wake').p50_ms:.0f} ms"  # type: ignore[union-attr]
    )


def run(ctx: Context) -> None:
    """Enqueue, drain, then wake an idle worker one job at a time."""
    target = ctx.target

    async def worker(action: str) -> None:
        # make up's worker is never stopped; the bench's own is paused outside this scenario.
        if target.owned:
            await asyncio.to_thread(target.stack.ctl, action, WORKER)

    asyncio.run(_measure(ctx, worker))
