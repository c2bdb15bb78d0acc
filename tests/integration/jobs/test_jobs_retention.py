"""The purge of finished jobs in a test's own jobs schema: what goes (with its attempts), what
stays, and one purge job a day however many jobs service replicas ask for it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from afirgen.jobs.v1 import jobs_pb2
from afirgen_jobs.adapters.mysql_retention import MySQLFinishedJobs
from afirgen_jobs.domain.model import STATUS_CODES, JobStatus
from afirgen_jobs.domain.retention import RetentionPolicy
from afirgen_jobs.service_layer.retention import FinishedJobsPurge
from afirgen_runtime.db import Database, Statement

from tests.conftest import mysql_settings
from tests.integration.jobs.conftest import FINISHED, JOB, JobsCluster
from tests.waiting import until

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)
INSERT_JOB = Statement(
    "t.job_insert",
    "INSERT INTO jobs (id, type, payload, priority, status, active, run_at, due_at, max_attempts, last_error,"
    " created_at, updated_at, finished_at) VALUES (%s, 'test.old', '{}', 5, %s, %s, %s, %s, 5, '', %s, %s, %s)",
)
INSERT_ATTEMPT = Statement(
    "t.attempt_insert",
    "INSERT INTO job_attempts (job_pk, number, worker, started_at, error) SELECT pk, 1, 'w', created_at, ''"
    " FROM jobs WHERE id = %s",
)
# name: (status, days since it finished; None: still live)
JOBS = {
    "succeeded-15-days-ago": (JobStatus.SUCCEEDED, 15),
    "succeeded-13-days-ago": (JobStatus.SUCCEEDED, 13),
    "cancelled-15-days-ago": (JobStatus.CANCELLED, 15),
    "dead-29-days-ago": (JobStatus.DEAD, 29),
    "dead-31-days-ago": (JobStatus.DEAD, 31),
    "failed-queued-40-days-ago": (JobStatus.FAILED, None),
}


def _db_time(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


async def _seed_and_purge(cluster: JobsCluster) -> tuple[list[str], int]:
    """The jobs above (one attempt each), purged as a worker does; returns the names of the jobs
    left and the number of attempts left."""
    now = datetime.now(UTC)
    db = Database(mysql_settings(cluster.stack, cluster.schema))
    names = {name: str(uuid.uuid4()) for name in JOBS}
    try:
        for name, (status, days) in JOBS.items():
            finished = None if days is None else _db_time(now - days * DAY)
            created = _db_time(now - 40 * DAY)
            args = (names[name], STATUS_CODES[status], int(days is None), created, created, created, created, finished)
            await db.run(lambda c, a=args: c.execute(INSERT_JOB, a))
            await db.run(lambda c, n=names[name]: c.execute(INSERT_ATTEMPT, (n,)))
        purge = FinishedJobsPurge(MySQLFinishedJobs(db), RetentionPolicy(batch_rows=1), lambda: now, budget_seconds=30)
        await purge.run({})
        jobs_left = await db.fetch_all(Statement("t.jobs_left", "SELECT id FROM jobs"))
        attempts_left = await db.fetch_one(Statement("t.attempts_left", "SELECT COUNT(*) FROM job_attempts"))
    finally:
        await db.close()
    by_id = {job_id: name for name, job_id in names.items()}
    return sorted(by_id[job_id] for (job_id,) in jobs_left), int(attempts_left[0]) if attempts_left else -1


async def test_finished_jobs_past_their_window_go_and_the_rest_stay(cluster: JobsCluster) -> None:
    left, _ = await _seed_and_purge(cluster)
    assert left == ["dead-29-days-ago", "failed-queued-40-days-ago", "succeeded-13-days-ago"]


async def test_the_attempts_of_purged_jobs_go_with_them(cluster: JobsCluster) -> None:
    _, attempts = await _seed_and_purge(cluster)
    assert attempts == 3  # one each of the three jobs left


async def test_two_replicas_asking_all_day_make_one_purge_job_and_a_worker_runs_it(cluster: JobsCluster) -> None:
    for _ in range(2):  # two more replicas, both scheduling (the fixture's own does not)
        replaced = cluster.channel
        await cluster.start_service(retention_period_seconds=86_400)
        if replaced is not None:
            await replaced.close()
    cluster.start_worker("w-purge")
    key = f"jobs.purge_finished/{datetime.now(UTC).date().isoformat()}"

    async def purges() -> list[jobs_pb2.Job]:
        listed = await cluster.stub.ListJobs(jobs_pb2.ListJobsRequest(filter='type = "jobs.purge_finished"'))
        return list(listed.jobs)

    found = await until(
        purges, lambda jobs: bool(jobs) and all(j.status in FINISHED for j in jobs), what="the purge job to finish"
    )
    assert [(job.idempotency_key, job.status) for job in found] == [(key, JOB.JOB_STATUS_SUCCEEDED)]
