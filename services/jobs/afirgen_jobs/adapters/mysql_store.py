"""The jobs API's storage in MySQL (schema created by ``migrations/jobs``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pymysql
from afirgen_runtime.db import Connection, Database, from_db_time, to_db_time
from afirgen_runtime.errors import AlreadyExists, IdempotencyKeyReused

from afirgen_jobs.adapters import sql
from afirgen_jobs.domain.errors import JobNotFound
from afirgen_jobs.domain.model import STATUS_BY_CODE, STATUS_CODES, Job, JobAttempt, JobStatus
from afirgen_jobs.domain.rules import ValidJob, ensure_cancellable, ensure_retryable
from afirgen_jobs.service_layer.ports import JobFilter

DUPLICATE_KEY = 1062


def row_to_job(row: Sequence[Any]) -> tuple[int, Job]:
    """``(pk, job)`` from a row of :data:`sql.JOB_COLUMNS`."""
    r = dict(zip(sql.JOB_COLUMNS, row, strict=True))
    status = STATUS_BY_CODE[int(r["status"])]
    job = Job(
        id=r["id"],
        type=r["type"],
        payload=json.loads(r["payload"]),
        priority=int(r["priority"]),
        # For a FAILED job the interesting time is the next attempt.
        run_time=from_db_time(r["due_at"] if status is JobStatus.FAILED else r["run_at"]),
        max_attempts=int(r["max_attempts"]),
        idempotency_key=r["idempotency_key"] or "",
        status=status,
        attempt_count=int(r["attempt_count"]),
        last_error=r["last_error"],
        create_time=from_db_time(r["created_at"]),
        update_time=from_db_time(r["updated_at"]),
        trace_parent=r["trace_parent"],
    )
    return int(r["pk"]), job


class MySQLJobStore:
    """:class:`~afirgen_jobs.service_layer.ports.JobStore` on MySQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ping(self) -> bool:
        """Readiness: the database answers."""
        return await self._db.ping()

    async def create(self, job: ValidJob, now: datetime) -> tuple[Job, bool]:
        """Insert; a duplicate idempotency key answers with the first job."""
        if job.idempotency_key:
            existing = await self._by_key(job)
            if existing is not None:
                return existing, False
        job_id = str(uuid.uuid4())
        db_now = to_db_time(now)
        run_at = to_db_time(job.run_time)
        args = (
            job_id,
            job.type,
            job.payload_json,
            job.priority,
            run_at,
            run_at,
            job.max_attempts,
            job.idempotency_key or None,
            job.request_hash(),
            job.trace_parent,
            db_now,
            db_now,
        )
        try:
            await self._db.run(lambda c: c.execute(sql.INSERT_JOB, args))
        except pymysql.err.IntegrityError as exc:
            if not job.idempotency_key or exc.args[0] != DUPLICATE_KEY:
                raise
            # A concurrent request with the same key committed first.
            existing = await self._by_key(job)
            if existing is None:
                raise AlreadyExists("the idempotency key is in use by a request that did not finish; retry") from exc
            return existing, False
        return job.queued(job_id, now), True

    async def _by_key(self, job: ValidJob) -> Job | None:
        row = await self._db.fetch_one(sql.GET_BY_KEY, (job.idempotency_key,))
        if row is None:
            return None
        if row[0] != job.request_hash():
            raise IdempotencyKeyReused("the idempotency key was used before with a different job")
        return row_to_job(row[1:])[1]

    async def get(self, job_id: str) -> Job | None:
        """One job with its attempts."""

        async def work(conn: Connection) -> Job | None:
            row = await conn.fetch_one(sql.GET_BY_ID, (job_id,))
            if row is None:
                return None
            pk, job = row_to_job(row)
            job.attempts = await _attempts(conn, pk)
            return job

        return await self._db.run(work)

    async def list(
        self, flt: JobFilter, after: tuple[str, int] | None, limit: int
    ) -> tuple[list[Job], tuple[str, int] | None]:
        """A page, newest first, and the keyset after its last row."""
        status = None if flt.status is None else STATUS_CODES[flt.status]
        keyset = None if after is None else (to_db_time(datetime.fromisoformat(after[0])), after[1])
        stmt, args = sql.list_page(status, flt.type, keyset, limit + 1)
        rows = [row_to_job(r) for r in await self._db.fetch_all(stmt, args)]
        page = rows[:limit]
        next_key = None
        if len(rows) > limit and page:
            pk, last = page[-1]
            assert last.create_time is not None
            next_key = (last.create_time.isoformat(), pk)
        return [job for _, job in page], next_key

    async def count(self, flt: JobFilter) -> int:
        """Jobs matching the filter."""
        stmt, args = sql.count(None if flt.status is None else STATUS_CODES[flt.status], flt.type)
        row = await self._db.fetch_one(stmt, args)
        return int(row[0]) if row else 0

    async def cancel(self, job_id: str, now: datetime) -> Job:
        """Cancel under the row lock; a running attempt is closed as CANCELLED."""

        async def work(conn: Connection) -> Job:
            pk, job = await _locked(conn, job_id)
            if job.status is JobStatus.CANCELLED:
                return job
            ensure_cancellable(job.status)
            db_now = to_db_time(now)
            if job.status is JobStatus.RUNNING:
                await conn.execute(sql.CANCEL_ATTEMPT, (db_now, pk, job.attempt_count))
            await conn.execute(sql.CANCEL, (db_now, db_now, pk))
            return await _reload(conn, job_id)

        return await self._db.run(work, transaction=True)

    async def retry(self, job_id: str, now: datetime) -> Job:
        """Back to QUEUED, due now, with a fresh attempt budget."""

        async def work(conn: Connection) -> Job:
            pk, job = await _locked(conn, job_id)
            ensure_retryable(job.status)
            db_now = to_db_time(now)
            await conn.execute(sql.RETRY, (db_now, db_now, db_now, pk))
            return await _reload(conn, job_id)

        return await self._db.run(work, transaction=True)


async def _locked(conn: Connection, job_id: str) -> tuple[int, Job]:
    row = await conn.fetch_one(sql.GET_FOR_UPDATE, (job_id,))
    if row is None:
        raise JobNotFound("no job with this id")
    return row_to_job(row)


async def _reload(conn: Connection, job_id: str) -> Job:
    row = await conn.fetch_one(sql.GET_BY_ID, (job_id,))
    assert row is not None
    pk, job = row_to_job(row)
    job.attempts = await _attempts(conn, pk)
    return job


async def _attempts(conn: Connection, pk: int) -> list[JobAttempt]:
    rows = await conn.fetch_all(sql.LIST_ATTEMPTS, (pk,))
    return [
        JobAttempt(
            number=int(number),
            worker=worker,
            start_time=from_db_time(started),
            end_time=from_db_time(ended),
            outcome=outcome,
            error=error,
            detail=detail,
        )
        for number, worker, started, ended, outcome, error, detail in rows
    ]
