"""The jobs API use cases with a hand-written fake store (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from afirgen_jobs.domain.model import Job, JobStatus, NewJob
from afirgen_jobs.domain.rules import EnqueueLimits, Routes
from afirgen_jobs.service_layer.job_service import JobService, parse_job_filter
from afirgen_jobs.service_layer.ports import JobFilter
from afirgen_runtime.errors import AlreadyExists, InvalidArgument, NotFound
from afirgen_runtime.pagination import PageTokens

from tests.unit.fakes import FakeJobStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[str] = []

    def publish(self, job: Job) -> None:
        self.published.append(job.id)


def _service() -> tuple[JobService, FakeJobStore, FakePublisher]:
    store, publisher = FakeJobStore(), FakePublisher()
    service = JobService(
        store, Routes({"fir": "x:1"}), EnqueueLimits(), PageTokens(b"0123456789abcdef01234567"), publisher, lambda: NOW
    )
    return service, store, publisher


async def test_same_idempotency_key_same_job_and_one_signal() -> None:
    service, _, publisher = _service()
    first, created = await service.enqueue(NewJob("fir.render_document", {"a": 1}, idempotency_key="k"))
    again, created_again = await service.enqueue(NewJob("fir.render_document", {"a": 1}, idempotency_key="k"))
    assert (created, created_again) == (True, False) and first.id == again.id
    assert publisher.published == [first.id]
    with pytest.raises(AlreadyExists) as caught:
        await service.enqueue(NewJob("fir.render_document", {"a": 2}, idempotency_key="k"))
    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_operator_retry_signals_workers() -> None:
    service, store, publisher = _service()
    job, _ = await service.enqueue(NewJob("fir.render_document", {}))
    store.jobs[job.id].status = JobStatus.DEAD
    await service.retry(job.id)
    assert publisher.published == [job.id, job.id]


async def test_ids_are_checked_before_the_store_is_asked() -> None:
    service, _, _ = _service()
    with pytest.raises(InvalidArgument):
        await service.get("not-a-uuid")
    with pytest.raises(NotFound) as caught:
        await service.get(str(uuid.uuid4()))
    assert caught.value.reason == "JOB_NOT_FOUND"


def test_filter_language() -> None:
    assert parse_job_filter('status = DEAD AND type = "fir.render_document"') == JobFilter(
        JobStatus.DEAD, "fir.render_document"
    )
    assert parse_job_filter("status = JOB_STATUS_QUEUED").status is JobStatus.QUEUED
    for bad in ("status = SLEEPING", "priority = 3", "status > DEAD"):
        with pytest.raises(InvalidArgument) as caught:
            parse_job_filter(bad)
        assert caught.value.reason == "INVALID_FILTER"


async def test_page_tokens_are_bound_to_the_filter() -> None:
    service, _, _ = _service()
    for _ in range(3):
        await service.enqueue(NewJob("fir.render_document", {}))
    first = await service.list(size=2, token="", filter_text="")
    assert len(first.jobs) == 2 and first.next_page_token and first.total_size == 3
    second = await service.list(size=2, token=first.next_page_token, filter_text="")
    assert len(second.jobs) == 1 and second.next_page_token == ""
    with pytest.raises(InvalidArgument) as caught:
        await service.list(size=2, token=first.next_page_token, filter_text="status = DEAD")
    assert caught.value.reason == "INVALID_PAGE_TOKEN"
    with pytest.raises(InvalidArgument):
        await service.list(size=2, token=first.next_page_token[:-3] + "abc", filter_text="")
