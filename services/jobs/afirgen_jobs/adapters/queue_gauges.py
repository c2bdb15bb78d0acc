"""Queue depth, age of the oldest due job and dead letters, as Prometheus gauges.

Refreshed from MariaDB every few seconds in the background of the jobs
service (Prometheus scrapes in another thread, which must not touch the
asyncio pool); a failed refresh keeps the last values and is logged.
"""

from __future__ import annotations

import asyncio
import contextlib

from afirgen_runtime.db import Database
from loguru import logger
from prometheus_client import Gauge

from afirgen_jobs.adapters import sql

QUEUE_DEPTH = Gauge(
    "afirgen_jobs_queue_depth", "Jobs waiting to run (queued or failed, will retry)", ["type", "priority"]
)
OLDEST_AGE = Gauge(
    "afirgen_jobs_oldest_queued_age_seconds", "How long the oldest due job of a type has waited", ["type"]
)
DEAD = Gauge("afirgen_jobs_dead", "Jobs that used up their attempts and wait for an operator", ["type"])


async def refresh(db: Database) -> None:
    """Read the queue once and set the gauges."""
    depth = await db.fetch_all(sql.QUEUE_DEPTH)
    oldest = await db.fetch_all(sql.OLDEST_DUE)
    dead = await db.fetch_all(sql.DEAD_BY_TYPE)
    for gauge in (QUEUE_DEPTH, OLDEST_AGE, DEAD):
        gauge.clear()
    for job_type, priority, count in depth:
        QUEUE_DEPTH.labels(job_type, str(priority)).set(count)
    for job_type, age in oldest:
        OLDEST_AGE.labels(job_type).set(float(age or 0))
    for job_type, count in dead:
        DEAD.labels(job_type).set(count)


class QueueGauges:
    """Background refresher of the gauges."""

    def __init__(self, db: Database, interval_seconds: float = 5.0) -> None:
        self._db = db
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            try:
                await refresh(self._db)
            except Exception as exc:
                logger.warning("queue gauges not refreshed: {}", type(exc).__name__)
            await asyncio.sleep(self._interval)

    async def start(self) -> None:
        """Refresh in the background."""
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop refreshing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
