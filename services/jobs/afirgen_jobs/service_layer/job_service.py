"""Use cases of the jobs API: enqueue, read, list, cancel, retry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from afirgen_runtime.errors import FilterInvalid
from afirgen_runtime.filtering import parse_filter
from afirgen_runtime.ids import check_id
from afirgen_runtime.pagination import PageTokens, page_size

from afirgen_jobs.domain.errors import JobNotFound
from afirgen_jobs.domain.model import Job, JobStatus, NewJob
from afirgen_jobs.domain.rules import EnqueueLimits, Routes, validate
from afirgen_jobs.service_layer.ports import JobFilter, JobStore, Publisher

JOB_ID = "a job id"
_EQ = frozenset({"="})
FILTER_FIELDS = {"status": _EQ, "type": _EQ}


@dataclass(frozen=True)
class JobPage:
    """One page of ListJobs."""

    jobs: list[Job]
    next_page_token: str
    total_size: int


def parse_job_filter(text: str) -> JobFilter:
    """``status = QUEUED AND type = "fir.render_document"``."""
    status: JobStatus | None = None
    job_type: str | None = None
    for cond in parse_filter(text, FILTER_FIELDS):
        if cond.field == "status":
            name = cond.value.upper().removeprefix("JOB_STATUS_")
            try:
                status = JobStatus(name)
            except ValueError:
                allowed = ", ".join(s.value for s in JobStatus)
                raise FilterInvalid.for_field(
                    "filter", f"unknown status {cond.value!r}; use one of {allowed}"
                ) from None
        else:
            job_type = cond.value
    return JobFilter(status=status, type=job_type)


class JobService:
    """The jobs API over a :class:`JobStore`."""

    def __init__(
        self,
        store: JobStore,
        routes: Routes,
        limits: EnqueueLimits,
        tokens: PageTokens,
        publisher: Publisher,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._routes = routes
        self._limits = limits
        self._tokens = tokens
        self._publisher = publisher
        self._clock = clock

    async def enqueue(self, new: NewJob) -> tuple[Job, bool]:
        """Validate and store a job; durable once this returns. ``(job, created)``."""
        now = self._clock()
        valid = validate(new, self._routes, self._limits, now)
        job, created = await self._store.create(valid, now)
        if created:
            self._publisher.publish(job)
        return job, created

    async def get(self, job_id: str) -> Job:
        """One job with its attempts."""
        job = await self._store.get(check_id(job_id, JOB_ID))
        if job is None:
            raise JobNotFound("no job with this id")
        return job

    async def list(self, *, size: int, token: str, filter_text: str) -> JobPage:
        """Newest first, keyset pagination with tokens bound to the filter."""
        flt = parse_job_filter(filter_text)
        limit = page_size(size)
        digest = PageTokens.query_digest("jobs", flt.status, flt.type)
        keyset = self._tokens.resume(token, digest, str, int)
        after = None if keyset is None else (keyset[0], keyset[1])
        jobs, next_key = await self._store.list(flt, after, limit)
        total = await self._store.count(flt)
        return JobPage(jobs, self._tokens.issue(digest, list(next_key)) if next_key else "", total)

    async def cancel(self, job_id: str) -> Job:
        """Cancel a job that has not finished."""
        return await self._store.cancel(check_id(job_id, JOB_ID), self._clock())

    async def retry(self, job_id: str) -> Job:
        """Operator retry of a DEAD (or FAILED, CANCELLED) job."""
        job = await self._store.retry(check_id(job_id, JOB_ID), self._clock())
        self._publisher.publish(job)
        return job
