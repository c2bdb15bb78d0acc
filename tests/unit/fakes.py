"""Hand-written fakes of the services' ports (no I/O).

The repository and store fakes pass the contract suites of ``tests/integration/contracts``,
as the MySQL adapters do: a unit test that passes on a fake says something about production.
"""

from __future__ import annotations

import copy
import operator
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from afirgen_fir.adapters.mysql_repository import _filled_fields as filled_fields
from afirgen_fir.domain.counts import local_day, local_midnight
from afirgen_fir.domain.errors import FirNotFound
from afirgen_fir.domain.legal import LegalSection, section_lookup
from afirgen_fir.domain.model import Fir, FirStatus, fir_number
from afirgen_fir.domain.queries import FirFilter, ListQuery
from afirgen_fir.service_layer.ports import Change, FirCounts, FirEvent, IdempotencyKey
from afirgen_jobs.domain.errors import JobNotFound
from afirgen_jobs.domain.model import Job, JobStatus
from afirgen_jobs.domain.rules import ValidJob, ensure_cancellable, ensure_retryable
from afirgen_jobs.service_layer.ports import JobFilter
from afirgen_runtime.errors import IdempotencyKeyReused
from afirgen_runtime.identity import Caller

TIME_OPS: dict[str, Callable[[datetime, datetime], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class FakeFirRepository:
    """In-memory FirRepository that behaves as the MySQL one does (the contract suite in
    ``tests/integration/contracts`` runs both): numbering per station and year, idempotency,
    revisions, audit, every filter, both orders with keyset pages, and every statistic."""

    def __init__(self, clock: Callable[[], datetime], numbering_utc_offset: timedelta = timedelta(0)) -> None:
        self.firs: dict[str, Fir] = {}
        self.pks: dict[str, int] = {}
        self.counters: dict[tuple[str, int], int] = {}
        self.keys: dict[str, tuple[str, str]] = {}
        self.events_by_fir: dict[str, list[FirEvent]] = {}
        self._clock = clock
        self._offset = numbering_utc_offset
        self._last_pk = 0
        self._last_event_pk = 0

    async def create(
        self, fir: Fir, *, action: str, idempotency: IdempotencyKey | None, change: Change
    ) -> tuple[Fir, bool]:
        if idempotency and idempotency.key in self.keys:
            return self._replay(idempotency), False
        now = self._clock()
        year = (now + self._offset).year
        key = (fir.station.code, year)
        self.counters[key] = self.counters.get(key, 0) + 1
        fir.id = fir.id or str(uuid.uuid4())
        fir.create_time = fir.update_time = now
        fir.revision, fir.status = 1, FirStatus.DRAFT
        fir.fir_number = fir_number(fir.station.code, year, self.counters[key])
        self._last_pk += 1
        self.firs[fir.id], self.pks[fir.id] = copy.deepcopy(fir), self._last_pk
        if idempotency:
            self.keys[idempotency.key] = (idempotency.request_hash, fir.id)
        self._audit(fir, action, change, sorted(filled_fields(fir)), now)
        return copy.deepcopy(fir), True

    async def find_by_idempotency_key(self, key: IdempotencyKey) -> Fir | None:
        return self._replay(key) if key.key in self.keys else None

    def _replay(self, key: IdempotencyKey) -> Fir:
        digest, fir_id = self.keys[key.key]
        if digest != key.request_hash:
            raise IdempotencyKeyReused("reused")
        return copy.deepcopy(self.firs[fir_id])

    async def get(self, fir_id: str, fields: frozenset[str] = frozenset()) -> Fir | None:
        fir = self.firs.get(fir_id)
        return copy.deepcopy(fir) if fir else None

    async def list_page(self, query: ListQuery) -> tuple[list[Fir], tuple[str, int] | None]:
        def keyset(fir: Fir) -> tuple[datetime, int]:
            when = fir.create_time if query.order_field == "create_time" else fir.update_time
            assert when is not None
            return when, self.pks[fir.id]

        rows = sorted(self._matching(query.filter), key=keyset, reverse=query.descending)
        if query.after is not None:
            after = (datetime.fromisoformat(query.after[0]), query.after[1])
            rows = [f for f in rows if (keyset(f) < after if query.descending else keyset(f) > after)]
        page = rows[: query.page_size]
        nxt = None
        if len(rows) > query.page_size and page:
            when, pk = keyset(page[-1])
            nxt = (when.isoformat(), pk)
        return copy.deepcopy(page), nxt

    def _matching(self, flt: FirFilter) -> list[Fir]:
        return [f for f in self.firs.values() if _matches(f, flt)]

    async def count(self, flt: FirFilter) -> int:
        return len(self._matching(flt))

    async def modify(self, fir_id: str, mutate: Callable[[Fir], list[str]], *, action: str, change: Change) -> Fir:
        if fir_id not in self.firs:
            raise FirNotFound("no FIR with this id")
        fir = copy.deepcopy(self.firs[fir_id])
        changed = mutate(fir)
        if changed:
            now = self._clock()
            fir.revision += 1
            fir.update_time = now
            self.firs[fir_id] = copy.deepcopy(fir)
            self._audit(fir, action, change, changed, now)
        return fir

    async def stats(self, flt: FirFilter, days: int, now: datetime) -> FirCounts:
        firs = self._matching(flt)
        # Days are local days of the numbering clock, as the MySQL counts keep them.
        since = local_midnight(local_day(now, self._offset) - timedelta(days=days - 1), self._offset)
        statuses = Counter(f.status for f in firs)
        stations = Counter(f.station.code for f in firs)
        sections = Counter(f"{s.act} {s.section}" for f in firs for s in f.legal_sections)
        days_seen = Counter(
            local_day(f.create_time, self._offset).isoformat() for f in firs if f.create_time and f.create_time >= since
        )
        return FirCounts(
            total=len(firs),
            by_status=[(s.value, statuses[s]) for s in FirStatus if statuses[s]],
            by_station=_most_first(stations),
            by_section=_most_first(sections),
            by_day=sorted(days_seen.items()),
        )

    async def events(self, fir_id: str, after_pk: int, limit: int) -> list[FirEvent]:
        rows = [e for e in self.events_by_fir.get(fir_id, []) if e.event_pk > after_pk][:limit]
        if not rows and after_pk == 0 and fir_id not in self.firs:
            raise FirNotFound("no FIR with this id")
        return rows

    async def ping(self) -> bool:
        return True

    def _audit(self, fir: Fir, action: str, change: Change, fields: list[str], now: datetime) -> None:
        self._last_event_pk += 1
        self.events_by_fir.setdefault(fir.id, []).append(
            FirEvent(action, change.actor, fields, now, fir.revision, change.request_id, self._last_event_pk)
        )


def _matches(fir: Fir, flt: FirFilter) -> bool:
    """The filter as MySQL applies it (a section matches its number in any act)."""
    created = fir.create_time
    assert created is not None
    return (
        (flt.station is None or fir.station.code == flt.station)
        and (flt.status is None or fir.status is flt.status)
        and (flt.district is None or fir.station.district == flt.district)
        and (flt.section is None or any(s.section == flt.section for s in fir.legal_sections))
        and all(TIME_OPS[op](created, when) for op, when in flt.time_bounds)
    )


def _most_first(counts: Counter[str]) -> list[tuple[str, int]]:
    """Largest count first, ties by key, at most 100 (as the stats statements order them)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:100]


class FakeJobStore:
    """In-memory JobStore that behaves as the MySQL one: idempotency keys, newest-first keyset
    pages, filters, cancel (closing a running attempt) and retry with their state rules."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.pks: dict[str, int] = {}
        self.keys: dict[str, tuple[str, str]] = {}
        self._last_pk = 0

    async def create(self, job: ValidJob, now: datetime) -> tuple[Job, bool]:
        if job.idempotency_key in self.keys:
            digest, job_id = self.keys[job.idempotency_key]
            if digest != job.request_hash():
                raise IdempotencyKeyReused("reused")
            return copy.deepcopy(self.jobs[job_id]), False
        stored = job.queued(str(uuid.uuid4()), now)
        self._last_pk += 1
        self.jobs[stored.id], self.pks[stored.id] = stored, self._last_pk
        if job.idempotency_key:
            self.keys[job.idempotency_key] = (job.request_hash(), stored.id)
        return copy.deepcopy(stored), True

    async def get(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        return copy.deepcopy(job) if job else None

    async def list(
        self, flt: JobFilter, after: tuple[str, int] | None, limit: int
    ) -> tuple[list[Job], tuple[str, int] | None]:
        def keyset(job: Job) -> tuple[datetime, int]:
            assert job.create_time is not None
            return job.create_time, self.pks[job.id]

        rows = sorted(self._matching(flt), key=keyset, reverse=True)
        if after is not None:
            rows = [j for j in rows if keyset(j) < (datetime.fromisoformat(after[0]), after[1])]
        page = rows[:limit]
        nxt = None
        if len(rows) > limit and page:
            when, pk = keyset(page[-1])
            nxt = (when.isoformat(), pk)
        return copy.deepcopy(page), nxt

    def _matching(self, flt: JobFilter) -> list[Job]:
        return [j for j in self.jobs.values() if flt.status in (None, j.status) and flt.type in (None, j.type)]

    async def count(self, flt: JobFilter) -> int:
        return len(self._matching(flt))

    async def cancel(self, job_id: str, now: datetime) -> Job:
        job = self._job(job_id)
        if job.status is JobStatus.CANCELLED:
            return copy.deepcopy(job)
        ensure_cancellable(job.status)
        if job.status is JobStatus.RUNNING:
            running = [a for a in job.attempts if a.number == job.attempt_count and a.end_time is None]
            for attempt in running:
                attempt.end_time, attempt.outcome, attempt.error = now, "CANCELLED", "cancelled while running"
        job.status, job.update_time = JobStatus.CANCELLED, now
        return copy.deepcopy(job)

    async def retry(self, job_id: str, now: datetime) -> Job:
        job = self._job(job_id)
        ensure_retryable(job.status)
        job.status, job.run_time, job.update_time = JobStatus.QUEUED, now, now
        return copy.deepcopy(job)

    def _job(self, job_id: str) -> Job:
        if job_id not in self.jobs:
            raise JobNotFound("no job with this id")
        return self.jobs[job_id]

    async def ping(self) -> bool:
        return True


class FakeLegalRepository:
    """The full BNS from the shared statute files, searched by section number or by shared words."""

    def __init__(self) -> None:
        from afirgen_fir.entrypoints.legal_import import statute_sections

        legal = Path(__file__).resolve().parents[3] / "shared" / "data" / "legal"
        self.sections = statute_sections(legal / "bns_sections.jsonl", legal / "bns_offence_schedule.jsonl")
        self.queries: list[str] = []

    async def search(self, query: str, limit: int) -> list[LegalSection]:
        self.queries.append(query)
        lookup = section_lookup(query)
        if lookup is not None:
            return [s for s in self.sections if s.section == lookup[1]][:limit]
        wanted = set(query.lower().split())
        scored = [(len(wanted & set(f"{s.title} {s.description}".lower().split())), s) for s in self.sections]
        return [s for score, s in sorted(scored, key=lambda item: -item[0]) if score][:limit]


def officer(station: str = "PS-1", role: str = "sho", district: str = "New Delhi") -> Caller:
    """A verified caller of a station role."""
    return Caller(
        subject=f"{role}-{station}",
        username=f"{role}.{station}".lower(),
        roles=frozenset({role}),
        station=station,
        district=district,
    )


AUDITOR = Caller(subject="auditor-1", username="auditor", roles=frozenset({"auditor"}))


def change_at(station: str = "PS-1", role: str = "sho") -> Change:
    """A change made by an officer of ``station``."""
    return Change.by(officer(station, role), "req")
