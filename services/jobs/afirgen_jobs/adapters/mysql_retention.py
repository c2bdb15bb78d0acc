"""Retention deletes in the jobs schema: each batch one statement in its own transaction
(autocommit), so a purge never holds many row locks for long."""

from __future__ import annotations

from datetime import datetime

from afirgen_runtime.db import Database, to_db_time

from afirgen_jobs.adapters import sql
from afirgen_jobs.domain.model import STATUS_CODES, JobStatus


class MySQLFinishedJobs:
    """:class:`~afirgen_jobs.service_layer.ports.FinishedJobs` on MySQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def delete_finished(self, status: JobStatus, before: datetime, limit: int) -> int:
        """One batch of jobs of ``status`` that finished before ``before``."""
        when = to_db_time(before)
        args = (STATUS_CODES[status], when, when, limit)
        return await self._db.run(lambda c: c.execute(sql.PURGE_FINISHED, args))
