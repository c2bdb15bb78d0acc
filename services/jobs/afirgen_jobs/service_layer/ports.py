"""Ports of the jobs service: what the use cases and the worker need from outside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from afirgen_jobs.domain.model import ClaimedJob, HandlerResult, Job, JobStatus
from afirgen_jobs.domain.rules import Decision, ValidJob


@dataclass(frozen=True)
class JobFilter:
    """ListJobs conditions, joined by AND."""

    status: JobStatus | None = None
    type: str | None = None


class JobStore(Protocol):
    """Durable jobs, as the API sees them."""

    async def create(self, job: ValidJob, now: datetime) -> tuple[Job, bool]:
        """Store a QUEUED job; with a known idempotency key, ``(first job, False)``."""
        ...

    async def get(self, job_id: str) -> Job | None:
        """One job with its attempts."""
        ...

    async def list(
        self, flt: JobFilter, after: tuple[str, int] | None, limit: int
    ) -> tuple[list[Job], tuple[str, int] | None]:
        """Newest first; returns the page and the keyset after its last row."""
        ...

    async def count(self, flt: JobFilter) -> int:
        """Jobs matching ``flt``."""
        ...

    async def cancel(self, job_id: str, now: datetime) -> Job:
        """Cancel a job that has not finished (NotFound, FailedPrecondition)."""
        ...

    async def retry(self, job_id: str, now: datetime) -> Job:
        """Queue a DEAD/FAILED/CANCELLED job again with a fresh attempt budget."""
        ...

    async def ping(self) -> bool:
        """Readiness."""
        ...


class Queue(Protocol):
    """The queue as a worker sees it. Times come from the database clock, so
    workers on different hosts agree on when a lease expires."""

    async def claim(self, worker: str, limit: int, lease_seconds: float) -> list[ClaimedJob]:
        """Lease up to ``limit`` due jobs, highest priority first, then longest due."""
        ...

    async def renew(self, tokens: list[str], lease_seconds: float) -> set[str]:
        """Extend the leases; returns the tokens still held (others were lost or cancelled)."""
        ...

    async def finish(self, job: ClaimedJob, result: HandlerResult, decision: Decision) -> bool:
        """Record the attempt's outcome; False when the lease was lost meanwhile."""
        ...

    async def release(self, job: ClaimedJob, reason: str) -> bool:
        """Give a job back unfinished (shutdown); the attempt does not count."""
        ...

    async def next_due_in(self) -> float | None:
        """Seconds until the next live job is due (<= 0: now), None when the queue is empty."""
        ...


class Delivery(Protocol):
    """Calls the owning service's ``JobHandler``."""

    async def deliver(self, job: ClaimedJob, deadline_seconds: float) -> HandlerResult:
        """Run one attempt; failures come back as a status code, never raised."""
        ...

    async def close(self) -> None:
        """Close channels."""
        ...


class Publisher(Protocol):
    """Tells waiting workers that work arrived."""

    def publish(self, job: Job) -> None:
        """Best effort, never blocks."""
        ...


class FinishedJobs(Protocol):
    """Bounded deletes of finished jobs (with their attempts), oldest first."""

    async def delete_finished(self, status: JobStatus, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` jobs of ``status`` that finished before ``before``; returns how many."""
        ...
