"""Leases: a kill -9'd worker's job runs again, and two workers never run one
job at the same time. Real worker processes, real MariaDB."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from tests.integration.jobs.conftest import JOB, Handler, JobsCluster
from tests.waiting import until

pytestmark = pytest.mark.integration

LEASE = 1.5


async def test_a_killed_workers_job_runs_again_after_its_lease_expires(cluster: JobsCluster, handler: Handler) -> None:
    doomed = cluster.start_worker("w-doomed", lease_seconds=LEASE)
    job = await cluster.enqueue({"sleeps": [60, 0.1]}, idempotency_key="kill-9-test")
    await until(lambda: bool(handler.servicer.calls[job.id]), what="the first attempt to start")
    running = await cluster.get(job.id)
    assert running.status == JOB.JOB_STATUS_RUNNING and running.attempts[0].worker == "w-doomed"
    # The survivor is up and idle before the kill, so only the lease decides when it takes over.
    cluster.start_worker("w-survivor", lease_seconds=LEASE)
    await cluster.started("w-survivor")
    await asyncio.sleep(LEASE)  # a whole lease of watching: without renewals it would have run out
    assert len(handler.servicer.calls[job.id]) == 1  # a live lease keeps the survivor away

    os.kill(doomed.pid, signal.SIGKILL)
    killed_at = time.time()
    await asyncio.to_thread(doomed.wait, 10)

    done = await cluster.wait_status(job.id, JOB.JOB_STATUS_SUCCEEDED, within=30)
    first, second = done.attempts
    assert (first.number, first.worker, first.outcome) == (1, "w-doomed", "LEASE_EXPIRED")
    assert "w-doomed" in first.error and first.end_time.seconds > 0
    assert (second.number, second.worker, second.outcome) == (2, "w-survivor", "OK")
    # Not before the lease ran out (last renewed at most a third of a lease before the kill).
    calls = handler.servicer.calls[job.id]
    assert calls[1].start - killed_at >= LEASE * 2 / 3 - 0.15
    # Exactly once from the user's point of view: one success, one completed handler call.
    assert handler.servicer.completions[job.id] == 1
    await until(lambda: calls[0].outcome == "CANCELLED", within=5, what="the orphaned call to end")
    assert done.attempt_count == 2 and done.last_error == ""


async def test_a_lease_that_expires_on_the_last_attempt_makes_the_job_dead(
    cluster: JobsCluster, handler: Handler
) -> None:
    doomed = cluster.start_worker("w-doomed-last", lease_seconds=1.0)
    job = await cluster.enqueue({"sleep": 60}, max_attempts=1)
    await until(lambda: bool(handler.servicer.calls[job.id]), what="the attempt to start")
    doomed.kill()
    await asyncio.to_thread(doomed.wait, 10)
    cluster.start_worker("w-reaper", lease_seconds=1.0)
    dead = await cluster.wait_status(job.id, JOB.JOB_STATUS_DEAD, within=20)
    assert dead.last_error.startswith("LEASE_EXPIRED") and dead.attempts[0].outcome == "LEASE_EXPIRED"
    assert len(handler.servicer.calls[job.id]) == 1


async def test_two_workers_never_run_one_job_at_the_same_time(cluster: JobsCluster, handler: Handler) -> None:
    for name in ("w-one", "w-two"):
        cluster.start_worker(name, concurrency=4, lease_seconds=1.0)
    for name in ("w-one", "w-two"):
        await cluster.started(name)
    ids = [j.id for j in await asyncio.gather(*(cluster.enqueue({"sleep": 0.05}) for _ in range(60)))]
    for job_id in ids:
        await cluster.wait_status(job_id, JOB.JOB_STATUS_SUCCEEDED, within=60)
    assert all(handler.servicer.max_in_flight[i] == 1 for i in ids)
    assert all(len(handler.servicer.calls[i]) == 1 and handler.servicer.completions[i] == 1 for i in ids)
    workers = {(await cluster.get(i)).attempts[0].worker for i in ids}
    assert workers == {"w-one", "w-two"}
