"""The worker's side of the queue in MySQL: claim, renew, finish, release.

Claims run at READ COMMITTED: ``FOR UPDATE SKIP LOCKED`` then locks only the
rows it returns (no gap locks), so concurrent workers skip each other's rows
and enqueues never wait behind a claim.
"""

from __future__ import annotations

import json
import uuid

from afirgen_runtime.db import Connection, Database

from afirgen_jobs.adapters import sql
from afirgen_jobs.domain.model import (
    LEASE_EXPIRED,
    RELEASED,
    STATUS_BY_CODE,
    ClaimedJob,
    HandlerResult,
    JobStatus,
)
from afirgen_jobs.domain.rules import Decision

READ_COMMITTED = "READ COMMITTED"
MAX_ERROR_CHARS = 4000


class MySQLQueue:
    """:class:`~afirgen_jobs.service_layer.ports.Queue` on MySQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, worker: str, limit: int, lease_seconds: float) -> list[ClaimedJob]:
        """Lease up to ``limit`` due jobs; expired leases are closed (or the job is DEAD)."""

        async def work(conn: Connection) -> list[ClaimedJob]:
            rows = await conn.fetch_all(sql.CLAIM, (limit,))
            claimed: list[ClaimedJob] = []
            for pk, job_id, job_type, payload, status, count, base, max_attempts, key, owner, trace in rows:
                if STATUS_BY_CODE[int(status)] is JobStatus.RUNNING:  # its worker stopped renewing the lease
                    error = f"worker {owner or '?'} stopped renewing its lease (crashed or stalled)"
                    await conn.execute(sql.EXPIRE_ATTEMPT, (error, pk, count))
                    if count - base >= max_attempts:
                        await conn.execute(sql.DEAD_AFTER_EXPIRY, (f"{LEASE_EXPIRED}: {error}", pk))
                        continue
                token = uuid.uuid4().hex
                number = int(count) + 1
                await conn.execute(sql.START, (worker[:128], token, sql.micros(lease_seconds), pk))
                await conn.execute(sql.INSERT_ATTEMPT, (pk, number, worker[:128]))
                claimed.append(
                    ClaimedJob(
                        pk=int(pk),
                        id=job_id,
                        type=job_type,
                        payload=json.loads(payload),
                        attempt=number,
                        attempts_used=number - int(base),
                        max_attempts=int(max_attempts),
                        idempotency_key=key or "",
                        lease_token=token,
                        trace_parent=trace,
                    )
                )
            return claimed

        return await self._db.run(work, transaction=True, isolation=READ_COMMITTED)

    async def renew(self, tokens: list[str], lease_seconds: float) -> set[str]:
        """Extend leases; the tokens still held come back."""
        if not tokens:
            return set()

        async def work(conn: Connection) -> set[str]:
            await conn.execute(sql.renew(len(tokens)), (sql.micros(lease_seconds), *tokens))
            return {row[0] for row in await conn.fetch_all(sql.held(len(tokens)), tokens)}

        return await self._db.run(work)

    async def finish(self, job: ClaimedJob, result: HandlerResult, decision: Decision) -> bool:
        """Fenced by the lease token: a lost lease records nothing."""

        async def work(conn: Connection) -> bool:
            error = decision.error[:MAX_ERROR_CHARS]
            if decision.status is JobStatus.SUCCEEDED:
                changed = await conn.execute(sql.SUCCEED, (job.pk, job.lease_token))
            elif decision.status is JobStatus.FAILED:
                changed = await conn.execute(
                    sql.FAIL_RETRY, (sql.micros(decision.retry_in), error, job.pk, job.lease_token)
                )
            else:
                changed = await conn.execute(sql.FAIL_DEAD, (error, job.pk, job.lease_token))
            if changed != 1:
                return False
            attempt_error = "" if result.code == "OK" else result.message[:MAX_ERROR_CHARS]
            await conn.execute(
                sql.END_ATTEMPT, (result.code[:32], attempt_error, result.detail[:512], job.pk, job.attempt)
            )
            return True

        return await self._db.run(work, transaction=True)

    async def release(self, job: ClaimedJob, reason: str) -> bool:
        """Back to QUEUED at once; the attempt is kept but not counted."""

        async def work(conn: Connection) -> bool:
            if await conn.execute(sql.RELEASE, (job.pk, job.lease_token)) != 1:
                return False
            await conn.execute(sql.END_ATTEMPT, (RELEASED, reason[:MAX_ERROR_CHARS], "", job.pk, job.attempt))
            return True

        return await self._db.run(work, transaction=True)

    async def next_due_in(self) -> float | None:
        """Seconds until the earliest live job is due."""
        row = await self._db.fetch_one(sql.NEXT_DUE)
        if row is None or row[0] is None:
            return None
        return float(row[0]) / 1_000_000
