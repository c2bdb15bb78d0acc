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

from afirgen_runtime.retention import PeriodicJob, Purge, Window

from afirgen_jobs.domain.retention import PURGE_FINISHED, RetentionPolicy, purge_job
from afirgen_jobs.service_layer.job_service import JobService
from afirgen_jobs.service_layer.ports import FinishedJobs


class FinishedJobsPurge(Purge):
    """One purge: SUCCEEDED, CANCELLED, then DEAD jobs past their windows."""

    def __init__(
        self,
        store: FinishedJobs,
        policy: RetentionPolicy,
        clock: Callable[[], datetime],
        *,
        budget_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        windows = [
            Window(status.value, days, functools.partial(store.delete_finished, status))
            for status, days in policy.windows()
        ]
        super().__init__(windows, clock, batch=policy.batch_rows, budget_seconds=budget_seconds, monotonic=monotonic)

    async def run(self, payload: dict[str, Any]) -> str:
        """The in-process handler of ``jobs.purge_finished``: :meth:`purge`."""
        return await self.purge()


def purge_schedule(service: JobService, clock: Callable[[], datetime], period_seconds: float) -> PeriodicJob:
    """The background asker of the current period's ``jobs.purge_finished`` job."""

    async def ensure() -> object:
        return await service.enqueue(purge_job(clock(), period_seconds))

    return PeriodicJob(PURGE_FINISHED, ensure, period_seconds)
