"""The worker loop: claim due jobs under a lease, deliver them, record outcomes.

Scheduling: the worker claims only as many jobs as it has free slots, so it
never holds claimed-but-waiting work and a high-priority job waits for at most
one slot to free (one claim cycle). When it has free slots and nothing is due,
it sleeps until the earliest of: the next job's due time, a wake-up (a queue
signal from the jobs service, or one of its own jobs finishing), or the poll
interval, which bounds latency when signals are missed.

Pace: at most ``max_jobs_per_second`` jobs start a second (a token bucket holding
``concurrency`` starts), so a backlog drains at a rate the operator chose rather than as
fast as the services can take it. Each job costs CPU in the services it calls and in the
database, which run at the priority of requests: a niced worker alone does not keep reads
fast while a backlog drains.

Leases: one heartbeat task renews the leases of every running job. A lease
the worker no longer holds (the job was cancelled, or the worker stalled so
long that another worker took it over) cancels the local attempt, and the
outcome of an attempt is only recorded while its lease is held (fencing).

Shutdown: stop claiming, let running jobs finish within the grace period,
then cancel the rest and release them back to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from afirgen_runtime import tracing
from afirgen_runtime.backoff import Backoff
from afirgen_runtime.context import request_id_var
from afirgen_runtime.errors import AfirgenError
from afirgen_runtime.pace import Pace
from loguru import logger

from afirgen_jobs.domain.model import ClaimedJob, HandlerResult
from afirgen_jobs.domain.rules import decide
from afirgen_jobs.service_layer.ports import Delivery, Queue

MIN_SLEEP_SECONDS = 0.02
AttemptObserver = Callable[[str, str, str, float], None]
"""Called with (job type, handler code, new job status, seconds) after each recorded attempt."""


def _ignore(job_type: str, code: str, status: str, seconds: float) -> None:
    return None


@dataclass(frozen=True)
class WorkerConfig:
    """How one worker process behaves."""

    name: str = ""
    """Worker name in attempts and logs; default ``host:pid``."""
    concurrency: int = 8
    """Jobs run at once by this process."""
    lease_seconds: float = 30.0
    """Lease length; renewed every third of it while a job runs. A dead worker's jobs rerun after this."""
    poll_seconds: float = 2.0
    """Longest idle sleep: bounds latency when a wake-up signal is missed."""
    job_timeout_seconds: float = 60.0
    """Deadline of one HandleJob call (DEADLINE_EXCEEDED retries)."""
    retry_base_seconds: float = 1.0
    """Backoff after the first failed attempt (doubles per attempt, half of it random)."""
    retry_cap_seconds: float = 300.0
    """Longest backoff."""
    shutdown_grace_seconds: float = 10.0
    """Time running jobs get to finish on SIGTERM before they are released."""
    max_jobs_per_second: float = 0.0
    """Most jobs started a second (attempts, retries included); 0: no bound."""

    @property
    def backoff(self) -> Backoff:
        """The delays between attempts of a failing job."""
        return Backoff(self.retry_base_seconds, self.retry_cap_seconds)


class Worker:
    """Runs jobs from a :class:`Queue` through a :class:`Delivery`."""

    def __init__(
        self,
        queue: Queue,
        delivery: Delivery,
        config: WorkerConfig,
        rand: Callable[[], float] = random.random,
        observe: AttemptObserver = _ignore,
        on_running: Callable[[int], None] = lambda count: None,
    ) -> None:
        self._queue = queue
        self._delivery = delivery
        self.config = config
        self._rand = rand
        self._observe = observe
        self._on_running = on_running
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._running: dict[str, tuple[ClaimedJob, asyncio.Task[None]]] = {}
        self._lost: set[str] = set()
        self._pace = Pace(config.max_jobs_per_second, config.concurrency)
        self.completed = 0

    def wake(self) -> None:
        """Work may have arrived: claim now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Begin a graceful shutdown (returns at once; :meth:`run` finishes it)."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Claim and run jobs until :meth:`stop`, then drain."""
        heartbeat = asyncio.create_task(self._heartbeat(), name="lease-heartbeat")
        logger.info("worker started", worker=self.config.name, concurrency=self.config.concurrency)
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                timeout = await self._claim_cycle()
                if self._stopping.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            await self._drain()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            logger.info("worker stopped", worker=self.config.name, completed=self.completed)

    async def _claim_cycle(self) -> float | None:
        """Fill free slots; returns how long to sleep (None: until woken)."""
        free = self.config.concurrency - len(self._running)
        if free <= 0:
            return None  # a finishing job wakes us
        allowed = self._pace.allowed(free)
        if allowed == 0:
            return max(self._pace.next_in(), MIN_SLEEP_SECONDS)
        try:
            claimed = await self._queue.claim(self.config.name, allowed, self.config.lease_seconds)
        except AfirgenError as exc:
            logger.warning("claim failed: {}", exc.message)
            return self.config.poll_seconds
        self._pace.take(len(claimed))
        for job in claimed:
            task = asyncio.create_task(self._execute(job), name=f"job-{job.id}")
            self._running[job.lease_token] = (job, task)
        self._on_running(len(self._running))
        if len(claimed) == free:
            return None  # every slot is busy: a finishing job wakes us
        if len(claimed) == allowed:
            return max(self._pace.next_in(), MIN_SLEEP_SECONDS)  # paced: more may be due
        try:
            due_in = await self._queue.next_due_in()
        except AfirgenError:
            return self.config.poll_seconds
        if due_in is None:
            return self.config.poll_seconds
        return min(self.config.poll_seconds, max(due_in, MIN_SLEEP_SECONDS))

    async def _execute(self, job: ClaimedJob) -> None:
        request_id_var.set(f"job-{job.id}-{job.attempt}")
        log = logger.bind(job_id=job.id, job_type=job.type, attempt=job.attempt)
        log.info("job started")
        started = time.perf_counter()
        try:
            try:
                # The run continues the trace of the request that enqueued the job.
                attributes: dict[str, str | int] = {"job.id": job.id, "job.type": job.type, "job.attempt": job.attempt}
                with tracing.continued_span(f"job {job.type}", job.trace_parent, **attributes):
                    result = await self._delivery.deliver(job, self.config.job_timeout_seconds)
            except (AfirgenError, asyncio.CancelledError):
                raise
            except Exception as exc:  # a bug on this side: retry with backoff rather than hang the job
                log.opt(exception=exc).error("delivery failed inside the worker")
                result = HandlerResult("UNAVAILABLE", f"worker error: {type(exc).__name__}")
            decision = decide(
                result.code,
                result.message,
                attempts_used=job.attempts_used,
                max_attempts=job.max_attempts,
                backoff=self.config.backoff,
                rand=self._rand,
            )
            if await self._queue.finish(job, result, decision):
                self.completed += 1
                self._observe(job.type, result.code, decision.status.value, time.perf_counter() - started)
                log.info("job finished", status=decision.status.value, code=result.code, retry_in=decision.retry_in)
            else:
                log.warning("lease lost before the outcome was recorded; outcome dropped", code=result.code)
        except asyncio.CancelledError:
            if job.lease_token in self._lost:
                log.warning("attempt abandoned: lease lost or job cancelled")
            else:
                with contextlib.suppress(AfirgenError):
                    await self._queue.release(job, "the worker shut down before the handler finished")
                log.info("job released at shutdown")
            raise
        except AfirgenError as exc:  # the outcome could not be stored: the lease will expire and it reruns
            log.error("recording the outcome failed: {}", exc.message)
        finally:
            self._running.pop(job.lease_token, None)
            self._on_running(len(self._running))
            self._lost.discard(job.lease_token)
            self._wake.set()

    async def _heartbeat(self) -> None:
        interval = max(self.config.lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            tokens = list(self._running)
            if not tokens:
                continue
            try:
                held = await self._queue.renew(tokens, self.config.lease_seconds)
            except AfirgenError as exc:
                logger.warning("lease renewal failed: {}", exc.message)
                continue
            for token in tokens:
                entry = self._running.get(token)
                if token not in held and entry is not None:
                    self._lost.add(token)
                    entry[1].cancel()

    async def _drain(self) -> None:
        tasks = [task for _, task in self._running.values()]
        if not tasks:
            return
        logger.info("waiting for running jobs", count=len(tasks), grace=self.config.shutdown_grace_seconds)
        _, pending = await asyncio.wait(tasks, timeout=self.config.shutdown_grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
