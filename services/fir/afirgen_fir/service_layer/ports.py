"""Ports of the FIR service: what the service layer needs from the outside."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from afirgen_runtime.identity import Caller

from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.domain.model import Fir
from afirgen_fir.domain.queries import FirFilter, ListQuery


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's idempotency key with the hash of the request it came with."""

    key: str
    request_hash: str


@dataclass(frozen=True)
class Change:
    """Who makes a change: the audit trail records the actor, access rules read the caller."""

    actor: str
    request_id: str
    caller: Caller | None = None
    """The verified caller; ``None`` for the service's own background work."""

    @classmethod
    def by(cls, caller: Caller | None, request_id: str) -> Change:
        """A change made by ``caller``: the actor is the token's subject, never a client-chosen name."""
        return cls(actor=caller.subject if caller else "", request_id=request_id, caller=caller)


@dataclass(frozen=True)
class FirEvent:
    """One audited change."""

    action: str
    actor: str
    changed_fields: list[str]
    time: datetime
    revision: int
    request_id: str
    event_pk: int


@dataclass(frozen=True)
class FirCounts:
    """Result of a statistics query."""

    total: int
    by_status: list[tuple[str, int]]
    by_station: list[tuple[str, int]]
    by_section: list[tuple[str, int]]
    by_day: list[tuple[str, int]]


class FirRepository(Protocol):
    """Durable FIR storage."""

    async def create(
        self, fir: Fir, *, action: str, idempotency: IdempotencyKey | None, change: Change
    ) -> tuple[Fir, bool]:
        """Store a new FIR with the next number of its station and year.

        Returns ``(fir, created)``; with a known idempotency key, the FIR of
        the first request and ``False``."""
        ...

    async def get(self, fir_id: str, fields: frozenset[str] = frozenset()) -> Fir | None:
        """One FIR with ``fields`` loaded (all when empty)."""
        ...

    async def find_by_idempotency_key(self, key: IdempotencyKey) -> Fir | None:
        """The FIR a key created before (ALREADY_EXISTS if it came with another request)."""
        ...

    async def list_page(self, query: ListQuery) -> tuple[list[Fir], tuple[str, int] | None]:
        """A page and the keyset after its last row (None on the last page)."""
        ...

    async def count(self, flt: FirFilter) -> int:
        """FIRs matching ``flt``."""
        ...

    async def modify(
        self,
        fir_id: str,
        mutate: Callable[[Fir], list[str]],
        *,
        action: str,
        change: Change,
    ) -> Fir:
        """Lock the FIR, let ``mutate`` change it (returns changed fields, may
        raise to refuse), store the new revision and audit it atomically."""
        ...

    async def stats(self, flt: FirFilter, days: int, now: datetime) -> FirCounts:
        """Aggregates of FIRs matching ``flt``."""
        ...

    async def events(self, fir_id: str, after_pk: int, limit: int) -> list[FirEvent]:
        """Audit events of one FIR, oldest first."""
        ...

    async def ping(self) -> bool:
        """Readiness."""
        ...


class Clock(Protocol):
    """Current time (injectable for tests)."""

    def __call__(self) -> datetime: ...


class LegalRepository(Protocol):
    """The legal knowledge base."""

    async def search(self, query: str, limit: int) -> list[LegalSection]:
        """Sections most relevant to ``query``, best first."""
        ...


@dataclass(frozen=True)
class ModelReply:
    """What a model call returned."""

    text: str
    model: str
    model_millis: float
    language: str = ""


class InferenceClient(Protocol):
    """The inference proxy, as the FIR service uses it."""

    async def generate(
        self,
        messages: list[tuple[str, str]],
        *,
        max_tokens: int = 512,
        stop: tuple[str, ...] = (),
        budget_seconds: float | None = None,
    ) -> ModelReply:
        """One deterministic (temperature 0) completion.

        ``budget_seconds`` bounds this call below the caller's own deadline:
        DeadlineExceeded when the model has not answered by then."""
        ...

    def stream_generate(
        self,
        messages: list[tuple[str, str]],
        *,
        max_tokens: int = 512,
        stop: tuple[str, ...] = (),
        budget_seconds: float | None = None,
    ) -> AsyncIterator[str | ModelReply]:
        """Text deltas as they come, then the whole reply (DeadlineExceeded past ``budget_seconds``)."""
        ...

    async def transcribe(self, audio: bytes, language: str) -> ModelReply:
        """Speech to text."""
        ...

    async def recognize_text(self, image: bytes, languages: list[str]) -> ModelReply:
        """Text on a scanned page."""
        ...
