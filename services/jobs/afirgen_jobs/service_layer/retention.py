"""The jobs service's purge of finished jobs (``jobs.purge_finished``) and its schedule.

Every jobs API replica enqueues the current period's purge job every few minutes, keyed by
the period, so there is one job per day however many replicas ask. A worker claims it like
any job and runs it in-process (:mod:`afirgen_jobs.service_layer.in_process`): it deletes
finished jobs past their window in bounded batches, within a time budget inside the job's
deadline; what is left goes with the next day's run.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from afirgen_runtime.retention import PeriodicJob, cutoff, delete_in_turn

from afirgen_jobs.domain.retention import PURGE_FINISHED, RetentionPolicy, purge_job
from afirgen_jobs.service_layer.job_service import JobService
from afirgen_jobs.service_layer.ports import FinishedJobs


class FinishedJobsPurge:
    """Runs one purge: SUCCEEDED, CANCELLED, then DEAD jobs past their windows."""

    def __init__(
        self,
        store: FinishedJobs,
        policy: RetentionPolicy,
        clock: Callable[[], datetime],
        *,
        budget_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._policy = policy
        self._clock = clock
        self._budget = budget_seconds
        self._monotonic = monotonic

    async def run(self, payload: dict[str, Any]) -> str:
        """Delete what is past its window; returns the note kept on the job's attempt."""
        now, windows = self._clock(), self._policy.windows()
        purged = await delete_in_turn(
            [functools.partial(self._store.delete_finished, status, cutoff(now, days)) for status, days in windows],
            batch=self._policy.batch_rows,
            budget_seconds=self._budget,
            monotonic=self._monotonic,
        )
        parts = [
            f"{p.rows} {status.value} older than {days:g} days"
            for (status, days), p in zip(windows, purged, strict=True)
        ]
        note = "deleted " + ", ".join(parts)
        return note if all(p.complete for p in purged) else note + "; more are due: the next run goes on"


def purge_schedule(service: JobService, clock: Callable[[], datetime], period_seconds: float) -> PeriodicJob:
    """The background asker of the current period's ``jobs.purge_finished`` job."""

    async def ensure() -> object:
        return await service.enqueue(purge_job(clock(), period_seconds))

    return PeriodicJob(PURGE_FINISHED, ensure, period_seconds)
