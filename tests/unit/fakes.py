"""Hand-written fakes of the FIR service's ports (no I/O)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from afirgen_fir.domain.legal import LegalSection, section_lookup
from afirgen_fir.domain.model import Fir, FirStatus, fir_number
from afirgen_fir.domain.queries import FirFilter, ListQuery
from afirgen_fir.service_layer.ports import Change, FirCounts, FirEvent, IdempotencyKey
from afirgen_runtime.errors import AlreadyExists, NotFound
from afirgen_runtime.identity import Caller


class FakeFirRepository:
    """In-memory FirRepository: numbering, idempotency, revisions, audit."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.firs: dict[str, Fir] = {}
        self.order: list[str] = []
        self.counters: dict[tuple[str, int], int] = {}
        self.keys: dict[str, tuple[str, str]] = {}
        self.events_by_fir: dict[str, list[FirEvent]] = {}
        self._clock = clock

    async def create(
        self, fir: Fir, *, action: str, idempotency: IdempotencyKey | None, change: Change
    ) -> tuple[Fir, bool]:
        if idempotency and idempotency.key in self.keys:
            digest, fir_id = self.keys[idempotency.key]
            if digest != idempotency.request_hash:
                raise AlreadyExists("reused", reason="IDEMPOTENCY_KEY_REUSED")
            return copy.deepcopy(self.firs[fir_id]), False
        now = self._clock()
        key = (fir.station.code, now.year)
        self.counters[key] = self.counters.get(key, 0) + 1
        fir.id, fir.revision, fir.create_time, fir.update_time = str(uuid.uuid4()), 1, now, now
        fir.fir_number = fir_number(fir.station.code, now.year, self.counters[key])
        self.firs[fir.id] = copy.deepcopy(fir)
        self.order.append(fir.id)
        if idempotency:
            self.keys[idempotency.key] = (idempotency.request_hash, fir.id)
        self._audit(fir, action, change, ["station"])
        return copy.deepcopy(fir), True

    async def find_by_idempotency_key(self, key: IdempotencyKey) -> Fir | None:
        if key.key not in self.keys:
            return None
        digest, fir_id = self.keys[key.key]
        if digest != key.request_hash:
            raise AlreadyExists("reused", reason="IDEMPOTENCY_KEY_REUSED")
        return copy.deepcopy(self.firs[fir_id])

    async def get(self, fir_id: str, fields: frozenset[str] = frozenset()) -> Fir | None:
        fir = self.firs.get(fir_id)
        return copy.deepcopy(fir) if fir else None

    async def list_page(self, query: ListQuery) -> tuple[list[Fir], tuple[str, int] | None]:
        rows = [self.firs[i] for i in reversed(self.order) if self._match(self.firs[i], query.filter)]
        start = 0
        if query.after:
            start = next(n for n, f in enumerate(rows) if self.order.index(f.id) == query.after[1]) + 1
        page = rows[start : start + query.page_size]
        more = len(rows) > start + query.page_size
        nxt = (page[-1].create_time.isoformat(), self.order.index(page[-1].id)) if more and page else None  # type: ignore[union-attr]
        return copy.deepcopy(page), nxt

    @staticmethod
    def _match(fir: Fir, flt: FirFilter) -> bool:
        return (flt.station is None or fir.station.code == flt.station) and (
            flt.status is None or fir.status == flt.status
        )

    async def count(self, flt: FirFilter) -> int:
        return sum(self._match(f, flt) for f in self.firs.values())

    async def modify(self, fir_id: str, mutate: Callable[[Fir], list[str]], *, action: str, change: Change) -> Fir:
        if fir_id not in self.firs:
            raise NotFound("no FIR", reason="FIR_NOT_FOUND")
        fir = copy.deepcopy(self.firs[fir_id])
        changed = mutate(fir)
        if changed:
            fir.revision += 1
            fir.update_time = self._clock()
            self.firs[fir_id] = copy.deepcopy(fir)
            self._audit(fir, action, change, changed)
        return fir

    async def stats(self, flt: FirFilter, days: int, now: datetime) -> FirCounts:
        firs = [f for f in self.firs.values() if self._match(f, flt)]
        by_status = sorted({s.value: sum(f.status is s for f in firs) for s in FirStatus}.items())
        return FirCounts(len(firs), [(k, n) for k, n in by_status if n], [], [], [])

    async def events(self, fir_id: str, after_pk: int, limit: int) -> list[FirEvent]:
        return [e for e in self.events_by_fir.get(fir_id, []) if e.event_pk > after_pk][:limit]

    async def ping(self) -> bool:
        return True

    def _audit(self, fir: Fir, action: str, change: Change, fields: list[str]) -> None:
        events = self.events_by_fir.setdefault(fir.id, [])
        events.append(
            FirEvent(action, change.actor, fields, self._clock(), fir.revision, change.request_id, len(events) + 1)
        )


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
