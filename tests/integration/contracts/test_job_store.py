"""The JobStore contract: what the jobs API relies on, run against the in-memory fake of
the unit tests and the MySQL adapter alike.

The MySQL side uses a schema of its own (migrated like the real one) that no worker
polls, so no job changes state behind a test's back; each test owns a job type.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from afirgen_jobs.adapters.mysql_store import MySQLJobStore
from afirgen_jobs.domain.model import Job, JobStatus, NewJob
from afirgen_jobs.domain.rules import EnqueueLimits, Routes, ValidJob, validate
from afirgen_jobs.service_layer.ports import JobFilter, JobStore
from afirgen_runtime.db import Database
from afirgen_runtime.errors import AlreadyExists, FailedPrecondition, NotFound

from scripts.devstack.stack import Stack
from tests.conftest import mysql_settings
from tests.integration.contracts.conftest import Clock
from tests.integration.jobs.conftest import create_jobs_schema, drop_schema
from tests.unit.fakes import FakeJobStore

pytestmark = pytest.mark.integration

ROUTES = Routes({"contract": "127.0.0.1:1"})


@pytest.fixture(scope="module")
async def jobs_db(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    """A pool on a fresh jobs schema of this module."""
    schema = f"jobs_contract_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(create_jobs_schema, stack, schema, tmp_path_factory.mktemp("migrations"))
    db = Database(mysql_settings(stack, schema))
    yield db
    await db.close()
    await asyncio.to_thread(drop_schema, stack, schema)


@dataclass
class Backend:
    """A store, the clock of its callers and this test's own job type."""

    store: JobStore
    clock: Clock
    type: str

    def valid(self, **fields: object) -> ValidJob:
        """A checked enqueue request of this test's type, as the service makes it now."""
        new = NewJob(**({"type": self.type, "payload": {"fir_id": "f-1"}} | fields))  # type: ignore[arg-type]
        return validate(new, ROUTES, EnqueueLimits(), self.clock.now)

    async def create(self, **fields: object) -> Job:
        """A new job (never a replay)."""
        job, created = await self.store.create(self.valid(**fields), self.clock.now)
        assert created
        return job

    async def ids(self, flt: JobFilter) -> list[str]:
        """Ids of every job matching ``flt``, in list order (one large page)."""
        jobs, _ = await self.store.list(flt, None, 500)
        return [j.id for j in jobs]


@pytest.fixture(params=["fake", "mysql"])
def backend(request: pytest.FixtureRequest, clock: Clock) -> Backend:
    """The fake, or the MySQL adapter on this module's schema."""
    job_type = f"contract.t{uuid.uuid4().hex[:10]}"
    if request.param == "fake":
        return Backend(FakeJobStore(), clock, job_type)
    return Backend(MySQLJobStore(request.getfixturevalue("jobs_db")), clock, job_type)


async def test_a_new_job_is_queued_with_what_was_asked(backend: Backend) -> None:
    later = backend.clock.now + timedelta(hours=1)
    job = await backend.create(priority=7, run_time=later, max_attempts=3, idempotency_key=f"k-{uuid.uuid4()}")
    now = backend.clock.now
    assert job == Job(
        id=job.id,
        type=backend.type,
        payload={"fir_id": "f-1"},
        priority=7,
        run_time=later,
        max_attempts=3,
        idempotency_key=job.idempotency_key,
        status=JobStatus.QUEUED,
        create_time=now,
        update_time=now,
    )


async def test_get_returns_the_job_as_stored(backend: Backend) -> None:
    job = await backend.create()
    assert await backend.store.get(job.id) == job


async def test_get_of_an_unknown_id_is_none(backend: Backend) -> None:
    assert await backend.store.get(str(uuid.uuid4())) is None


async def test_a_repeated_key_answers_the_first_job_and_stores_nothing(backend: Backend) -> None:
    key = f"k-{uuid.uuid4()}"
    first = await backend.create(idempotency_key=key)
    backend.clock.advance(seconds=1)
    again, created = await backend.store.create(backend.valid(idempotency_key=key), backend.clock.now)
    assert (again, created, await backend.store.count(JobFilter(type=backend.type))) == (first, False, 1)


async def test_a_key_reused_with_another_request_is_refused(backend: Backend) -> None:
    key = f"k-{uuid.uuid4()}"
    await backend.create(idempotency_key=key)
    with pytest.raises(AlreadyExists) as refused:
        await backend.store.create(backend.valid(idempotency_key=key, payload={"fir_id": "f-2"}), backend.clock.now)
    assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_lists_are_newest_first_with_ties_by_storage_order(backend: Backend) -> None:
    ids = []
    for pause in (0, 1, 0):
        ids.append((await backend.create()).id)
        backend.clock.advance(seconds=pause)
    assert await backend.ids(JobFilter(type=backend.type)) == [ids[2], ids[1], ids[0]]


async def test_keyset_pages_walk_the_whole_list_once(backend: Backend) -> None:
    ids = []
    for pause in (0, 1, 0, 1, 0):
        ids.append((await backend.create()).id)
        backend.clock.advance(seconds=pause)
    seen: list[list[str]] = []
    after: tuple[str, int] | None = None
    while True:
        page, after = await backend.store.list(JobFilter(type=backend.type), after, 2)
        seen.append([j.id for j in page])
        if after is None:
            break
    newest_first = ids[::-1]
    assert seen == [newest_first[0:2], newest_first[2:4], newest_first[4:5]]


async def test_the_status_filter_keeps_that_status(backend: Backend) -> None:
    queued, cancelled = await backend.create(), await backend.create()
    await backend.store.cancel(cancelled.id, backend.clock.now)
    found = [await backend.ids(JobFilter(status=s, type=backend.type)) for s in (JobStatus.QUEUED, JobStatus.CANCELLED)]
    assert found == [[queued.id], [cancelled.id]]


async def test_count_counts_every_match(backend: Backend) -> None:
    for _ in range(3):
        await backend.create()
    cancelled = await backend.create()
    await backend.store.cancel(cancelled.id, backend.clock.now)
    counts = [
        await backend.store.count(JobFilter(type=backend.type)),
        await backend.store.count(JobFilter(status=JobStatus.QUEUED, type=backend.type)),
        await backend.store.count(JobFilter(type=backend.type + "x")),
    ]
    assert counts == [4, 3, 0]


async def test_cancelling_a_queued_job_stores_it_cancelled_now(backend: Backend) -> None:
    job = await backend.create()
    when = backend.clock.advance(minutes=1)
    cancelled = await backend.store.cancel(job.id, when)
    expected = dataclasses.replace(job, status=JobStatus.CANCELLED, update_time=when)
    assert (cancelled, await backend.store.get(job.id)) == (expected, expected)


async def test_cancelling_twice_keeps_the_first_cancellation(backend: Backend) -> None:
    job = await backend.create()
    first = await backend.store.cancel(job.id, backend.clock.advance(minutes=1))
    assert await backend.store.cancel(job.id, backend.clock.advance(minutes=1)) == first


async def test_cancelling_an_unknown_job_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound) as missing:
        await backend.store.cancel(str(uuid.uuid4()), backend.clock.now)
    assert missing.value.reason == "JOB_NOT_FOUND"


async def test_a_retried_job_is_queued_again_and_due_now(backend: Backend) -> None:
    job = await backend.create(run_time=backend.clock.now + timedelta(hours=1))
    await backend.store.cancel(job.id, backend.clock.advance(minutes=1))
    when = backend.clock.advance(minutes=1)
    retried = await backend.store.retry(job.id, when)
    expected = dataclasses.replace(job, status=JobStatus.QUEUED, run_time=when, update_time=when)
    assert (retried, await backend.store.get(job.id)) == (expected, expected)


async def test_a_queued_job_cannot_be_retried(backend: Backend) -> None:
    job = await backend.create()
    with pytest.raises(FailedPrecondition) as refused:
        await backend.store.retry(job.id, backend.clock.now)
    assert refused.value.reason == "JOB_STATE_CONFLICT"


async def test_retrying_an_unknown_job_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound) as missing:
        await backend.store.retry(str(uuid.uuid4()), backend.clock.now)
    assert missing.value.reason == "JOB_NOT_FOUND"
