"""Every SQL statement of the jobs service, named, in one place.

API-side statements take times from the service clock; queue-side ones use the
database clock (``UTC_TIMESTAMP(6)``) so every worker agrees on leases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afirgen_runtime.db import Statement

from afirgen_jobs.domain.model import STATUS_CODES, JobStatus

Q = STATUS_CODES[JobStatus.QUEUED]
R = STATUS_CODES[JobStatus.RUNNING]
S = STATUS_CODES[JobStatus.SUCCEEDED]
F = STATUS_CODES[JobStatus.FAILED]
D = STATUS_CODES[JobStatus.DEAD]
C = STATUS_CODES[JobStatus.CANCELLED]

JOB_COLUMNS = (
    "pk",
    "id",
    "type",
    "payload",
    "priority",
    "status",
    "run_at",
    "due_at",
    "max_attempts",
    "attempt_count",
    "idempotency_key",
    "last_error",
    "trace_parent",
    "created_at",
    "updated_at",
)
_COLS = ", ".join(JOB_COLUMNS)

# --- API side ----------------------------------------------------------------
INSERT_JOB = Statement(
    "jobs.insert",
    "INSERT INTO jobs (id, type, payload, priority, status, active, run_at, due_at, max_attempts,"
    f" idempotency_key, request_hash, last_error, trace_parent, created_at, updated_at)"
    f" VALUES (%s, %s, %s, %s, {Q}, 1, %s, %s, %s, %s, %s, '', %s, %s, %s)",
)
GET_BY_KEY = Statement("jobs.get_by_key", f"SELECT request_hash, {_COLS} FROM jobs WHERE idempotency_key = %s")
GET_BY_ID = Statement("jobs.get", f"SELECT {_COLS} FROM jobs WHERE id = %s")
GET_FOR_UPDATE = Statement("jobs.get_for_update", f"SELECT {_COLS} FROM jobs WHERE id = %s FOR UPDATE")
LIST_ATTEMPTS = Statement(
    "jobs.attempts",
    "SELECT number, worker, started_at, ended_at, outcome, error, detail FROM job_attempts"
    " WHERE job_pk = %s ORDER BY number",
)
CANCEL = Statement(
    "jobs.cancel",
    f"UPDATE jobs SET status = {C}, active = 0, lease_token = NULL, lease_owner = '', finished_at = %s,"
    " updated_at = %s WHERE pk = %s",
)
CANCEL_ATTEMPT = Statement(
    "jobs.cancel_attempt",
    "UPDATE job_attempts SET ended_at = %s, outcome = 'CANCELLED', error = 'cancelled while running'"
    " WHERE job_pk = %s AND number = %s AND ended_at IS NULL",
)
RETRY = Statement(
    "jobs.retry",
    f"UPDATE jobs SET status = {Q}, active = 1, run_at = %s, due_at = %s, attempt_base = attempt_count,"
    " lease_token = NULL, lease_owner = '', finished_at = NULL, updated_at = %s WHERE pk = %s",
)


def list_page(
    status: int | None, job_type: str | None, after: tuple[datetime, int] | None, limit: int
) -> tuple[Statement, list[Any]]:
    """Newest first, strictly after the keyset ``after``."""
    clauses, args = where(status, job_type)
    if after is not None:
        clauses.append("(created_at < %s OR (created_at = %s AND pk < %s))")
        args += [after[0], after[0], after[1]]
    sql = f"SELECT {_COLS} FROM jobs"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY created_at DESC, pk DESC LIMIT %s"
    return Statement("jobs.list", sql), [*args, limit]


def count(status: int | None, job_type: str | None) -> tuple[Statement, list[Any]]:
    """COUNT(*) of the jobs matching a filter."""
    clauses, args = where(status, job_type)
    sql = "SELECT COUNT(*) FROM jobs" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    return Statement("jobs.count", sql), args


def where(status: int | None, job_type: str | None) -> tuple[list[str], list[Any]]:
    """Filter conditions."""
    clauses: list[str] = []
    args: list[Any] = []
    if status is not None:
        clauses.append("status = %s")
        args.append(status)
    if job_type is not None:
        clauses.append("type = %s")
        args.append(job_type)
    return clauses, args


# Retention: finished jobs, oldest first, a bounded number per statement; the attempts go with
# them (ON DELETE CASCADE). `created_at < cutoff` (a job finishes after it is created) lets the
# statement walk ix_jobs_status_created instead of scanning every finished job.
PURGE_FINISHED = Statement(
    "jobs.purge_finished",
    "DELETE FROM jobs WHERE status = %s AND created_at < %s AND finished_at < %s ORDER BY created_at, pk LIMIT %s",
)

# --- queue side ----------------------------------------------------------------
NOW = "UTC_TIMESTAMP(6)"
CLAIM = Statement(
    "queue.claim",
    "SELECT pk, id, type, payload, status, attempt_count, attempt_base, max_attempts, idempotency_key,"
    f" lease_owner, trace_parent FROM jobs WHERE active = 1 AND due_at <= {NOW}"
    " ORDER BY priority DESC, due_at, pk LIMIT %s FOR UPDATE SKIP LOCKED",
)
EXPIRE_ATTEMPT = Statement(
    "queue.expire_attempt",
    f"UPDATE job_attempts SET ended_at = {NOW}, outcome = 'LEASE_EXPIRED', error = %s"
    " WHERE job_pk = %s AND number = %s AND ended_at IS NULL",
)
DEAD_AFTER_EXPIRY = Statement(
    "queue.dead_after_expiry",
    f"UPDATE jobs SET status = {D}, active = 0, lease_token = NULL, lease_owner = '', last_error = %s,"
    f" finished_at = {NOW}, updated_at = {NOW} WHERE pk = %s",
)
START = Statement(
    "queue.start",
    f"UPDATE jobs SET status = {R}, attempt_count = attempt_count + 1, lease_owner = %s, lease_token = %s,"
    f" due_at = {NOW} + INTERVAL %s MICROSECOND, updated_at = {NOW} WHERE pk = %s",
)
INSERT_ATTEMPT = Statement(
    "queue.attempt_insert",
    f"INSERT INTO job_attempts (job_pk, number, worker, started_at, error) VALUES (%s, %s, %s, {NOW}, '')",
)
SUCCEED = Statement(
    "queue.succeed",
    f"UPDATE jobs SET status = {S}, active = 0, lease_token = NULL, lease_owner = '', last_error = '',"
    f" finished_at = {NOW}, updated_at = {NOW} WHERE pk = %s AND lease_token = %s",
)
FAIL_RETRY = Statement(
    "queue.fail_retry",
    f"UPDATE jobs SET status = {F}, due_at = {NOW} + INTERVAL %s MICROSECOND, lease_token = NULL,"
    f" lease_owner = '', last_error = %s, updated_at = {NOW} WHERE pk = %s AND lease_token = %s",
)
FAIL_DEAD = Statement(
    "queue.fail_dead",
    f"UPDATE jobs SET status = {D}, active = 0, lease_token = NULL, lease_owner = '', last_error = %s,"
    f" finished_at = {NOW}, updated_at = {NOW} WHERE pk = %s AND lease_token = %s",
)
RELEASE = Statement(
    "queue.release",
    f"UPDATE jobs SET status = {Q}, due_at = {NOW}, lease_token = NULL, lease_owner = '',"
    f" attempt_base = attempt_base + 1, updated_at = {NOW} WHERE pk = %s AND lease_token = %s",
)
END_ATTEMPT = Statement(
    "queue.attempt_end",
    f"UPDATE job_attempts SET ended_at = {NOW}, outcome = %s, error = %s, detail = %s"
    " WHERE job_pk = %s AND number = %s",
)
NEXT_DUE = Statement(
    "queue.next_due",
    f"SELECT TIMESTAMPDIFF(MICROSECOND, {NOW}, MIN(due_at)) FROM jobs WHERE active = 1",
)


def renew(count: int) -> Statement:
    """Extend the leases of ``count`` tokens."""
    marks = ", ".join(["%s"] * count)
    return Statement(
        "queue.renew",
        f"UPDATE jobs SET due_at = {NOW} + INTERVAL %s MICROSECOND WHERE lease_token IN ({marks}) AND status = {R}",
    )


def held(count: int) -> Statement:
    """Which of ``count`` tokens are still held."""
    marks = ", ".join(["%s"] * count)
    return Statement("queue.held", f"SELECT lease_token FROM jobs WHERE lease_token IN ({marks}) AND status = {R}")


def micros(seconds: float) -> int:
    """Seconds as whole microseconds (for INTERVAL ... MICROSECOND)."""
    return max(0, int(seconds * 1_000_000))


# Queue gauges (refreshed every few seconds by the jobs service, not per request).
QUEUE_DEPTH = Statement(
    "queue.depth",
    f"SELECT type, priority, COUNT(*) FROM jobs WHERE active = 1 AND status IN ({Q}, {F}) GROUP BY type, priority",
)
OLDEST_DUE = Statement(
    "queue.oldest_due",
    "SELECT type, TIMESTAMPDIFF(MICROSECOND, MIN(due_at), UTC_TIMESTAMP(6)) / 1000000 FROM jobs"
    f" WHERE active = 1 AND status IN ({Q}, {F}) AND due_at <= UTC_TIMESTAMP(6) GROUP BY type",
)
DEAD_BY_TYPE = Statement("queue.dead", f"SELECT type, COUNT(*) FROM jobs WHERE status = {D} GROUP BY type")
