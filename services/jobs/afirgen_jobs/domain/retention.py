"""How long the jobs service keeps finished jobs, and its own purge job. No I/O.

Live jobs (QUEUED, RUNNING, FAILED) are never purged. Finished ones are purged with their
attempts by the daily ``jobs.purge_finished`` job (docs/runbooks/retention.md):

- SUCCEEDED and CANCELLED jobs 14 days after they finished: two weeks to look into what ran,
  and to see that a job with the same idempotency key was already done;
- DEAD jobs 30 days after they died: an operator has a month to read the error and retry.

The purge is a ``jobs.*`` type, the jobs service's own (:mod:`afirgen_jobs.domain.rules`): its
workers run it in-process instead of delivering it to another service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from afirgen_runtime.retention import period_key

from afirgen_jobs.domain.model import JobStatus, NewJob

PURGE_FINISHED = "jobs.purge_finished"
PURGE_PRIORITY = 1
MIN_DAYS = 1.0


@dataclass(frozen=True)
class RetentionPolicy:
    """The windows, in days after a job finished, and the batch size of the purge
    (``AFIRGEN_RETENTION_*`` of the workers, which run it; docs/runbooks/retention.md)."""

    succeeded_days: float = 14.0
    """SUCCEEDED jobs, counted from when they finished."""
    cancelled_days: float = 14.0
    """CANCELLED jobs."""
    dead_days: float = 30.0
    """DEAD jobs: a month for an operator to read the error and retry."""
    batch_rows: int = 1000
    """Jobs deleted by one statement (one short transaction), with their attempts."""

    def __post_init__(self) -> None:
        if min(self.succeeded_days, self.cancelled_days, self.dead_days) < MIN_DAYS:
            raise ValueError(f"retention windows must be at least {MIN_DAYS:g} day")
        if self.batch_rows < 1:
            raise ValueError("the purge batch must hold at least one row")

    def windows(self) -> list[tuple[JobStatus, float]]:
        """Each finished status with its window."""
        return [
            (JobStatus.SUCCEEDED, self.succeeded_days),
            (JobStatus.CANCELLED, self.cancelled_days),
            (JobStatus.DEAD, self.dead_days),
        ]


def purge_job(now: datetime, period_seconds: float) -> NewJob:
    """The purge job of the period holding ``now``, keyed by the period (one job per period)."""
    key = period_key(PURGE_FINISHED, now, period_seconds)
    return NewJob(
        type=PURGE_FINISHED,
        payload={"period": key.split("/", 1)[1]},
        priority=PURGE_PRIORITY,
        idempotency_key=key,
    )
