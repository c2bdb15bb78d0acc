"""The worker loop with hand-written fakes of its queue and delivery (no I/O)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from afirgen_jobs.domain.model import ClaimedJob, HandlerResult, JobStatus
from afirgen_jobs.domain.rules import Decision
from afirgen_jobs.service_layer.worker_loop import Worker, WorkerConfig
from afirgen_runtime.pace import Pace

from tests.waiting import until


def _job(n: int, attempts_used: int = 1, max_attempts: int = 3) -> ClaimedJob:
    return ClaimedJob(
        pk=n,
        id=f"job-{n}",
        type="test.job",
        payload={"n": n},
        attempt=attempts_used,
        attempts_used=attempts_used,
        max_attempts=max_attempts,
        idempotency_key="",
        lease_token=f"token-{n}",
    )


class FakeQueue:
    """Due jobs in a list; records every call."""

    def __init__(self, jobs: list[ClaimedJob] | None = None) -> None:
        self.due = list(jobs or [])
        self.claims: list[int] = []
        self.finished: dict[str, Decision] = {}
        self.released: list[str] = []
        self.lost: set[str] = set()
        self.renewals = 0

    async def claim(self, worker: str, limit: int, lease_seconds: float) -> list[ClaimedJob]:
        self.claims.append(limit)
        taken, self.due = self.due[:limit], self.due[limit:]
        return taken

    async def renew(self, tokens: list[str], lease_seconds: float) -> set[str]:
        self.renewals += 1
        return {t for t in tokens if t not in self.lost}

    async def finish(self, job: ClaimedJob, result: HandlerResult, decision: Decision) -> bool:
        if job.lease_token in self.lost:
            return False
        self.finished[job.id] = decision
        return True

    async def release(self, job: ClaimedJob, reason: str) -> bool:
        self.released.append(job.id)
        return True

    async def next_due_in(self) -> float | None:
        return 0.0 if self.due else None


class FakeDelivery:
    """Answers with ``results[job_id]`` after ``delays[job_id]`` seconds; tracks concurrency."""

    def __init__(self, results: dict[str, str] | None = None, delay: Callable[[str], float] = lambda _: 0.0) -> None:
        self.results = results or {}
        self.delay = delay
        self.calls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.cancelled: list[str] = []

    async def deliver(self, job: ClaimedJob, deadline_seconds: float) -> HandlerResult:
        self.calls.append(job.id)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay(job.id))
        except asyncio.CancelledError:
            self.cancelled.append(job.id)
            raise
        finally:
            self.in_flight -= 1
        code = self.results.get(job.id, "OK")
        return HandlerResult(code, "" if code == "OK" else "boom", "done")

    async def close(self) -> None:
        return None


def _worker(queue: FakeQueue, delivery: FakeDelivery, **kwargs: object) -> Worker:
    config = WorkerConfig(
        name="w1",
        concurrency=int(kwargs.pop("concurrency", 2)),  # type: ignore[call-overload]
        lease_seconds=float(kwargs.pop("lease_seconds", 30.0)),  # type: ignore[arg-type]
        poll_seconds=float(kwargs.pop("poll_seconds", 0.05)),  # type: ignore[arg-type]
        shutdown_grace_seconds=float(kwargs.pop("grace", 1.0)),  # type: ignore[arg-type]
        retry_base_seconds=1.0,
        retry_cap_seconds=10.0,
        max_jobs_per_second=float(kwargs.pop("rate", 0.0)),  # type: ignore[arg-type]
    )
    return Worker(queue, delivery, config, rand=lambda: 0.0)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_pace_allows_its_saved_starts_then_one_per_interval() -> None:
    clock = Clock()
    pace = Pace(10.0, burst=2, clock=clock)
    first = pace.allowed(5)
    pace.take(first)
    empty, wait = pace.allowed(5), pace.next_in()
    clock.now += 0.1
    assert (first, empty, round(wait, 6), pace.allowed(5)) == (2, 0, 0.1, 1)


def test_a_pace_of_zero_allows_every_start() -> None:
    pace = Pace(0.0, burst=1, clock=Clock())
    pace.take(1000)
    assert (pace.allowed(1000), pace.next_in()) == (1000, 0.0)


async def test_runs_every_job_never_more_than_concurrency_at_once() -> None:
    queue = FakeQueue([_job(n) for n in range(10)])
    delivery = FakeDelivery(delay=lambda _: 0.01)
    worker = _worker(queue, delivery, concurrency=3)
    task = asyncio.create_task(worker.run())
    await until(lambda: len(queue.finished) == 10, every=0.005)
    worker.stop()
    await task
    assert delivery.max_in_flight <= 3
    assert all(limit <= 3 for limit in queue.claims)
    assert {d.status for d in queue.finished.values()} == {JobStatus.SUCCEEDED}


async def test_a_paced_worker_starts_no_more_jobs_a_second_than_its_bound() -> None:
    queue = FakeQueue([_job(n) for n in range(10)])
    worker = _worker(queue, FakeDelivery(), concurrency=2, rate=20.0)
    started = time.monotonic()
    task = asyncio.create_task(worker.run())
    await until(lambda: len(queue.finished) == 10, every=0.005)
    elapsed = time.monotonic() - started
    worker.stop()
    await task
    # Two saved starts, then eight at 20 a second: 0.4 s at least.
    assert elapsed >= 0.4


async def test_outcomes_follow_the_handler_status() -> None:
    queue = FakeQueue([_job(1), _job(2), _job(3, attempts_used=3, max_attempts=3), _job(4)])
    delivery = FakeDelivery({"job-2": "UNAVAILABLE", "job-3": "UNAVAILABLE", "job-4": "INVALID_ARGUMENT"})
    worker = _worker(queue, delivery)
    observed: list[tuple[str, str, str]] = []
    worker._observe = lambda job_type, code, status, seconds: observed.append((job_type, code, status))
    task = asyncio.create_task(worker.run())
    await until(lambda: len(queue.finished) == 4, every=0.005)
    worker.stop()
    await task
    assert queue.finished["job-1"].status is JobStatus.SUCCEEDED
    assert queue.finished["job-2"] == Decision(JobStatus.FAILED, 0.5, "UNAVAILABLE: boom")
    assert queue.finished["job-3"].status is JobStatus.DEAD
    assert queue.finished["job-4"] == Decision(JobStatus.DEAD, 0.0, "INVALID_ARGUMENT: boom")
    assert sorted(observed) == [
        ("test.job", "INVALID_ARGUMENT", "DEAD"),
        ("test.job", "OK", "SUCCEEDED"),
        ("test.job", "UNAVAILABLE", "DEAD"),
        ("test.job", "UNAVAILABLE", "FAILED"),
    ]


async def test_wake_claims_at_once_instead_of_waiting_for_the_poll() -> None:
    queue = FakeQueue()
    worker = _worker(queue, FakeDelivery(), poll_seconds=30.0)
    task = asyncio.create_task(worker.run())
    await until(lambda: len(queue.claims) == 1, every=0.005, what="the first (empty) claim")
    queue.due.append(_job(1))
    worker.wake()
    # The next poll is 30 s away: only the wake-up can run the job within 5 s.
    await until(lambda: "job-1" in queue.finished, within=5, every=0.005, what="job-1 to finish")
    worker.stop()
    await task
    assert queue.finished["job-1"].status is JobStatus.SUCCEEDED


async def test_a_lost_lease_cancels_the_attempt_and_records_nothing() -> None:
    queue = FakeQueue([_job(1)])
    delivery = FakeDelivery(delay=lambda _: 10.0)
    worker = _worker(queue, delivery, lease_seconds=0.15)
    task = asyncio.create_task(worker.run())
    await until(lambda: delivery.calls == ["job-1"], every=0.005)
    queue.lost.add("token-1")  # cancelled through the API, or taken over
    await until(lambda: delivery.cancelled == ["job-1"], every=0.005)
    worker.stop()
    await task
    assert queue.finished == {} and queue.released == []


async def test_shutdown_lets_short_jobs_finish_and_releases_long_ones() -> None:
    queue = FakeQueue([_job(1), _job(2)])
    delivery = FakeDelivery(delay=lambda job_id: 0.05 if job_id == "job-1" else 30.0)
    worker = _worker(queue, delivery, grace=0.3)
    task = asyncio.create_task(worker.run())
    await until(lambda: len(delivery.calls) == 2, every=0.005)
    worker.stop()
    async with asyncio.timeout(3):
        await task
    assert queue.finished["job-1"].status is JobStatus.SUCCEEDED
    assert queue.released == ["job-2"] and delivery.cancelled == ["job-2"]


async def test_leases_are_renewed_while_a_job_runs() -> None:
    queue = FakeQueue([_job(1)])
    delivery = FakeDelivery(delay=lambda _: 0.3)
    worker = _worker(queue, delivery, lease_seconds=0.15)
    task = asyncio.create_task(worker.run())
    await until(lambda: "job-1" in queue.finished, every=0.005)
    worker.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert queue.renewals >= 3
