"""Workers delivering jobs: priorities, backoff, dead letters, cancellation,
wake-up and graceful shutdown, with real worker processes and MariaDB."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest
from afirgen.jobs.v1 import jobs_pb2
from prometheus_client.parser import text_string_to_metric_families

from scripts.devstack.config import free_port
from tests.integration.jobs.conftest import JOB, Handler, JobsCluster
from tests.waiting import until

pytestmark = pytest.mark.integration


def _gap(job: jobs_pb2.Job, n: int) -> float:
    """Seconds between the end of attempt ``n`` and the start of attempt ``n + 1`` (database clock)."""
    ended = job.attempts[n - 1].end_time.ToDatetime()
    started = job.attempts[n].start_time.ToDatetime()
    return (started - ended).total_seconds()


async def test_higher_priority_runs_first(cluster: JobsCluster, handler: Handler) -> None:
    low = [(await cluster.enqueue({}, priority=1)).id for _ in range(5)]
    high = [(await cluster.enqueue({}, priority=8)).id for _ in range(3)]
    cluster.start_worker("w-prio", concurrency=1)
    for job_id in low + high:
        await cluster.wait_status(job_id, JOB.JOB_STATUS_SUCCEEDED)
    order = sorted(low + high, key=lambda i: handler.servicer.calls[i][0].start)
    assert order[:3] == high  # priority first, then oldest first
    assert order[3:] == low


async def test_a_flood_of_low_priority_jobs_delays_a_high_one_by_one_claim_cycle_at_most(
    cluster: JobsCluster, handler: Handler
) -> None:
    concurrency = 2
    flood = [(await cluster.enqueue({"sleep": 0.05}, priority=0)).id for _ in range(40)]
    cluster.start_worker("w-flood", concurrency=concurrency)
    await until(lambda: sum(1 for i in flood if handler.servicer.calls[i]) >= 6, what="the flood to start")
    urgent = await cluster.enqueue({}, priority=9)
    enqueued = time.time()
    await cluster.wait_status(urgent.id, JOB.JOB_STATUS_SUCCEEDED)
    started = handler.servicer.calls[urgent.id][0].start
    overtaking = [
        i for i in flood if handler.servicer.calls[i] and enqueued < handler.servicer.calls[i][0].start < started
    ]
    assert len(overtaking) <= concurrency
    assert sum(1 for i in flood if not handler.servicer.calls[i]) > 10  # the flood was still queued


async def test_retries_back_off_exponentially_then_succeed(cluster: JobsCluster, handler: Handler) -> None:
    cluster.start_worker("w-backoff", retry_base_seconds=0.4, retry_cap_seconds=5)
    job = await cluster.enqueue({"fail_codes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"]})
    done = await cluster.wait_status(job.id, JOB.JOB_STATUS_SUCCEEDED, within=30)
    assert [a.outcome for a in done.attempts] == ["UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "OK"]
    assert all(a.error for a in done.attempts[:3]) and done.attempts[3].detail == "done on attempt 4"
    # Equal jitter: attempt n is due at least half of 0.4 * 2^(n-1) seconds after the last one
    # ended (database clock). How much later it starts depends on the machine's load, and is
    # not this test's business: the bound below is the one the worker guarantees.
    gaps, floors = [_gap(done, n) for n in (1, 2, 3)], [0.4 / 2 - 0.05, 0.8 / 2 - 0.05, 1.6 / 2 - 0.05]
    assert min(gap - floor for gap, floor in zip(gaps, floors, strict=True)) >= 0, (gaps, floors)
    assert done.last_error == "" and done.attempt_count == 4


async def test_the_state_is_failed_between_attempts(cluster: JobsCluster) -> None:
    cluster.start_worker("w-failed", retry_base_seconds=4, retry_cap_seconds=4)
    job = await cluster.enqueue({"fail_codes": ["UNAVAILABLE"]})
    failed = await cluster.wait_status(job.id, JOB.JOB_STATUS_FAILED)
    assert failed.last_error.startswith("UNAVAILABLE") and failed.attempt_count == 1
    assert failed.run_time.ToDatetime() > failed.attempts[0].end_time.ToDatetime()  # the next attempt's time
    await cluster.wait_status(job.id, JOB.JOB_STATUS_SUCCEEDED)


async def test_dead_after_max_attempts_then_an_operator_retry_succeeds(cluster: JobsCluster) -> None:
    cluster.start_worker("w-dead")
    job = await cluster.enqueue({"fail_codes": ["UNAVAILABLE", "UNAVAILABLE"]}, max_attempts=2)
    dead = await cluster.wait_status(job.id, JOB.JOB_STATUS_DEAD)
    assert dead.attempt_count == 2 and "after 2 attempts" in dead.last_error
    retried = await cluster.stub.RetryJob(jobs_pb2.RetryJobRequest(id=job.id))
    assert retried.status == JOB.JOB_STATUS_QUEUED  # as committed: no worker can claim it before
    done = await cluster.wait_status(job.id, JOB.JOB_STATUS_SUCCEEDED)
    assert [a.outcome for a in done.attempts] == ["UNAVAILABLE", "UNAVAILABLE", "OK"]


async def test_a_permanent_error_is_dead_at_once_with_the_error_kept(cluster: JobsCluster) -> None:
    cluster.start_worker("w-permanent")
    job = await cluster.enqueue({"code": "INVALID_ARGUMENT"})
    dead = await cluster.wait_status(job.id, JOB.JOB_STATUS_DEAD)
    assert dead.attempt_count == 1
    assert dead.last_error == "INVALID_ARGUMENT: planned INVALID_ARGUMENT on attempt 1"
    assert dead.attempts[0].outcome == "INVALID_ARGUMENT"
    listed = await cluster.stub.ListJobs(jobs_pb2.ListJobsRequest(filter="status = DEAD"))
    assert [j.id for j in listed.jobs] == [job.id]


async def worker_metric(port: int, sample: str) -> float:
    """One sample of a worker's Prometheus metrics."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == sample:
                return float(found.value)
    raise AssertionError(f"the worker exports no {sample}")


async def test_cancelling_a_running_job_stops_its_attempt(cluster: JobsCluster, handler: Handler) -> None:
    metrics = free_port()
    cluster.start_worker("w-cancel", lease_seconds=0.9, metrics_port=metrics)
    job = await cluster.enqueue({"sleep": 30})
    await until(lambda: bool(handler.servicer.calls[job.id]), what="the job to start")
    cancelled = await cluster.stub.CancelJob(jobs_pb2.CancelJobRequest(id=job.id))
    assert cancelled.status == JOB.JOB_STATUS_CANCELLED and cancelled.attempts[0].outcome == "CANCELLED"
    await until(lambda: handler.servicer.calls[job.id][0].outcome == "CANCELLED", within=5, what="abandon")
    # The worker has let go of the attempt: whatever it would record about it, it has recorded.
    await until(lambda: worker_metric(metrics, "afirgen_jobs_running"), lambda n: n == 0, what="the worker idle")
    final = await cluster.get(job.id)
    assert final.status == JOB.JOB_STATUS_CANCELLED and final.attempt_count == 1


async def test_an_idle_worker_wakes_at_once_when_work_arrives(cluster: JobsCluster) -> None:
    cluster.start_worker("w-idle", poll_seconds=30)
    await cluster.started("w-idle")
    ran = []
    for _ in range(5):
        job = await cluster.enqueue({})
        # The poll is 30 s away: each job runs within 10 s only because the enqueue woke the worker.
        # (How fast the wake-up is, is measured by the benchmark: bench/scenarios/jobs.py.)
        ran.append(await cluster.wait_status(job.id, JOB.JOB_STATUS_SUCCEEDED, within=10))
    assert [(j.attempt_count, j.attempts[0].worker) for j in ran] == [(1, "w-idle")] * 5


async def test_without_signals_the_poll_still_finds_work(cluster: JobsCluster) -> None:
    cluster.start_worker("w-poll", queue_target="", poll_seconds=0.5)
    await cluster.started("w-poll")
    job = await cluster.enqueue({})
    done = await cluster.wait_status(job.id, JOB.JOB_STATUS_SUCCEEDED, within=10)
    assert (done.attempt_count, done.attempts[0].worker) == (1, "w-poll")


async def test_graceful_shutdown_finishes_short_jobs_and_releases_long_ones(
    cluster: JobsCluster, handler: Handler
) -> None:
    worker = cluster.start_worker("w-term", shutdown_grace_seconds=1.0)
    short = await cluster.enqueue({"sleep": 0.3})
    long = await cluster.enqueue({"sleep": 60})
    await until(lambda: bool(handler.servicer.calls[short.id] and handler.servicer.calls[long.id]))
    worker.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(worker.wait, 15) == 0
    done = await cluster.get(short.id)
    released = await cluster.get(long.id)
    assert done.status == JOB.JOB_STATUS_SUCCEEDED
    assert released.status == JOB.JOB_STATUS_QUEUED and released.attempts[0].outcome == "RELEASED"
    assert handler.servicer.calls[long.id][0].outcome == "CANCELLED"
    # The released attempt does not count: it runs again with its whole budget.
    cluster.start_worker("w-after")
    job = await cluster.wait_status(long.id, JOB.JOB_STATUS_RUNNING)
    assert job.attempt_count == 2
    await cluster.stub.CancelJob(jobs_pb2.CancelJobRequest(id=long.id))


async def test_workers_export_attempt_metrics(cluster: JobsCluster) -> None:
    port = free_port()
    cluster.start_worker("w-metrics", metrics_port=port)
    ok = await cluster.enqueue({})
    bad = await cluster.enqueue({"code": "NOT_FOUND"})
    await cluster.wait_status(ok.id, JOB.JOB_STATUS_SUCCEEDED)
    await cluster.wait_status(bad.id, JOB.JOB_STATUS_DEAD)
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    assert 'afirgen_jobs_attempts_total{code="OK",service="test",status="SUCCEEDED"} 1.0' in text
    assert 'afirgen_jobs_attempts_total{code="NOT_FOUND",service="test",status="DEAD"} 1.0' in text
    assert 'afirgen_db_query_duration_seconds_count{statement="queue.claim"}' in text
