"""The FIR service's retention purge (``fir.purge_retention``) and its schedule.

Every fir replica asks the jobs service for the current period's purge job every few minutes,
keyed by the period, so there is one job per day however many replicas ask (a repeated ask
returns the same job). The jobs workers deliver it back to this service like any FIR job; it
deletes expired idempotency keys and sent outbox rows in bounded batches, within a time
budget that leaves room inside the job's deadline. The job is not written to the outbox: it
belongs to no FIR change, and asking again is what makes it durable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from afirgen_runtime.retention import PeriodicJob, Purge, Window

from afirgen_fir.domain.jobs import PURGE_RETENTION
from afirgen_fir.domain.retention import RetentionPolicy, purge_job
from afirgen_fir.service_layer.ports import JobQueue, RetentionStore

PURGE_BUDGET_SECONDS = 40.0
"""Time one purge may take: inside the workers' default 60 s deadline of a job attempt."""


class FirRetention(Purge):
    """One purge: expired idempotency keys, then sent outbox rows."""

    def __init__(
        self,
        store: RetentionStore,
        policy: RetentionPolicy,
        clock: Callable[[], datetime],
        *,
        budget_seconds: float = PURGE_BUDGET_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        windows = [
            Window("idempotency keys", policy.idempotency_days, store.delete_idempotency_keys),
            Window("sent outbox rows", policy.outbox_days, store.delete_sent_outbox),
        ]
        super().__init__(windows, clock, batch=policy.batch_rows, budget_seconds=budget_seconds, monotonic=monotonic)


def purge_schedule(queue: JobQueue, clock: Callable[[], datetime], period_seconds: float) -> PeriodicJob:
    """The background asker of the current period's ``fir.purge_retention`` job."""

    async def ensure() -> str:
        job, key = purge_job(clock(), period_seconds)
        return await queue.enqueue(job, key)

    return PeriodicJob(PURGE_RETENTION, ensure, period_seconds)
