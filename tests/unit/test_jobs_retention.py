"""The jobs service's purge of finished jobs: windows, its daily schedule through the API's
idempotency, and in-process delivery by the worker, with hand-written fakes (no I/O)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from afirgen_jobs.domain.model import ClaimedJob, HandlerResult, Job, JobStatus
from afirgen_jobs.domain.retention import RetentionPolicy
from afirgen_jobs.domain.rules import EnqueueLimits, Routes
from afirgen_jobs.service_layer.in_process import InProcessDelivery
from afirgen_jobs.service_layer.job_service import JobService
from afirgen_jobs.service_layer.retention import FinishedJobsPurge, purge_schedule
from afirgen_runtime.errors import Unavailable
from afirgen_runtime.pagination import PageTokens

from tests.unit.fakes import FakeJobStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class FakeFinishedJobs:
    """Finished jobs as (name, status, finished at); deletes the oldest of a status first."""

    def __init__(self, rows: list[tuple[str, JobStatus, datetime]]) -> None:
        self.rows = rows
        self.asked: list[JobStatus] = []

    async def delete_finished(self, status: JobStatus, before: datetime, limit: int) -> int:
        self.asked.append(status)
        due = sorted((r for r in self.rows if r[1] is status and r[2] < before), key=lambda r: r[2])[:limit]
        for row in due:
            self.rows.remove(row)
        return len(due)


class Silent:
    def publish(self, job: Job) -> None:
        return None


class Recorder:
    """The delegate delivery (the owning service over gRPC)."""

    def __init__(self) -> None:
        self.delivered: list[str] = []

    async def deliver(self, job: ClaimedJob, deadline_seconds: float) -> HandlerResult:
        self.delivered.append(job.type)
        return HandlerResult("OK", detail="delivered")

    async def close(self) -> None:
        return None


def _claimed(job_type: str) -> ClaimedJob:
    return ClaimedJob(1, "id-1", job_type, {"period": "2026-11-28"}, 1, 1, 5, "", "token")


def _purge(store: FakeFinishedJobs) -> FinishedJobsPurge:
    return FinishedJobsPurge(store, RetentionPolicy(), lambda: NOW, budget_seconds=40)


async def test_finished_jobs_go_when_their_status_window_has_passed() -> None:
    store = FakeFinishedJobs(
        [
            ("succeeded 15 days ago", JobStatus.SUCCEEDED, NOW - 15 * DAY),
            ("succeeded 13 days ago", JobStatus.SUCCEEDED, NOW - 13 * DAY),
            ("cancelled 15 days ago", JobStatus.CANCELLED, NOW - 15 * DAY),
            ("dead 15 days ago", JobStatus.DEAD, NOW - 15 * DAY),
            ("dead 31 days ago", JobStatus.DEAD, NOW - 31 * DAY),
        ]
    )
    await _purge(store).run({})
    assert [name for name, _, _ in store.rows] == ["succeeded 13 days ago", "dead 15 days ago"]


async def test_live_jobs_are_never_asked_for() -> None:
    store = FakeFinishedJobs([])
    await _purge(store).run({})
    assert set(store.asked) == {JobStatus.SUCCEEDED, JobStatus.CANCELLED, JobStatus.DEAD}


async def test_the_purge_note_counts_each_status() -> None:
    store = FakeFinishedJobs([("old", JobStatus.DEAD, NOW - 40 * DAY)])
    assert await _purge(store).run({}) == (
        "deleted 0 SUCCEEDED older than 14 days, 0 CANCELLED older than 14 days and 1 DEAD older than 30 days"
    )


def test_a_window_shorter_than_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 day"):
        RetentionPolicy(dead_days=0)


async def test_asking_all_day_long_through_the_api_makes_one_purge_job() -> None:
    store = FakeJobStore()
    service = JobService(
        store,
        Routes({"fir": "127.0.0.1:1"}),
        EnqueueLimits(),
        PageTokens(b"unit-test-secret-0123456789"),
        Silent(),
        lambda: NOW,
    )
    schedule = purge_schedule(service, lambda: NOW, 86_400)
    for _ in range(3):
        assert await schedule.ask_once()
    assert [j.idempotency_key for j in store.jobs.values()] == ["jobs.purge_finished/2026-11-28"]


async def test_the_worker_runs_the_purge_itself() -> None:
    store = FakeFinishedJobs([("old", JobStatus.SUCCEEDED, NOW - 20 * DAY)])
    delivery = InProcessDelivery({"jobs.purge_finished": _purge(store).run}, Recorder())
    result = await delivery.deliver(_claimed("jobs.purge_finished"), 60)
    assert (result.code, store.rows) == ("OK", [])


async def test_other_jobs_go_to_their_service() -> None:
    recorder = Recorder()
    await InProcessDelivery({}, recorder).deliver(_claimed("fir.render_document"), 60)
    assert recorder.delivered == ["fir.render_document"]


async def test_an_unknown_jobs_type_fails_for_good() -> None:
    result = await InProcessDelivery({}, Recorder()).deliver(_claimed("jobs.no_such_thing"), 60)
    assert result.code == "INVALID_ARGUMENT"


async def test_a_database_outage_during_the_purge_retries() -> None:
    async def down(payload: dict[str, Any]) -> str:
        raise Unavailable("MariaDB is down")

    result = await InProcessDelivery({"jobs.purge_finished": down}, Recorder()).deliver(
        _claimed("jobs.purge_finished"), 60
    )
    assert result.code == "UNAVAILABLE"


async def test_a_purge_past_the_deadline_is_deadline_exceeded() -> None:
    async def slow(payload: dict[str, Any]) -> str:
        await asyncio.sleep(5)
        return "never"

    result = await InProcessDelivery({"jobs.purge_finished": slow}, Recorder()).deliver(
        _claimed("jobs.purge_finished"), 0.01
    )
    assert result.code == "DEADLINE_EXCEEDED"
