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

from afirgen_runtime.retention import PeriodicJob, Purged, cutoff, delete_in_turn

from afirgen_fir.domain.jobs import PURGE_RETENTION
from afirgen_fir.domain.retention import RetentionPolicy, purge_job
from afirgen_fir.service_layer.job_ports import JobQueue, RetentionStore

PURGE_BUDGET_SECONDS = 40.0
"""Time one purge may take: inside the workers' default 60 s deadline of a job attempt."""


class FirRetention:
    """Runs one purge: expired idempotency keys, then sent outbox rows."""

    def __init__(
        self,
        store: RetentionStore,
        policy: RetentionPolicy,
        clock: Callable[[], datetime],
        *,
        budget_seconds: float = PURGE_BUDGET_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._policy = policy
        self._clock = clock
        self._budget = budget_seconds
        self._monotonic = monotonic

    async def purge(self) -> str:
        """Delete what is past its window; returns the note kept on the job's attempt."""
        now, policy = self._clock(), self._policy
        keys_before, outbox_before = cutoff(now, policy.idempotency_days), cutoff(now, policy.outbox_days)
        keys, outbox = await delete_in_turn(
            [
                lambda n: self._store.delete_idempotency_keys(keys_before, n),
                lambda n: self._store.delete_sent_outbox(outbox_before, n),
            ],
            batch=policy.batch_rows,
            budget_seconds=self._budget,
            monotonic=self._monotonic,
        )
        return _note(keys, outbox, policy)


def _note(keys: Purged, outbox: Purged, policy: RetentionPolicy) -> str:
    note = (
        f"deleted {keys.rows} idempotency keys older than {policy.idempotency_days:g} days"
        f" and {outbox.rows} sent outbox rows older than {policy.outbox_days:g} days"
    )
    if not (keys.complete and outbox.complete):
        note += "; more are due: the next run goes on"
    return note


def purge_schedule(queue: JobQueue, clock: Callable[[], datetime], period_seconds: float) -> PeriodicJob:
    """The background asker of the current period's ``fir.purge_retention`` job."""

    async def ensure() -> str:
        job, key = purge_job(clock(), period_seconds)
        return await queue.enqueue(job, key)

    return PeriodicJob(PURGE_RETENTION, ensure, period_seconds)
