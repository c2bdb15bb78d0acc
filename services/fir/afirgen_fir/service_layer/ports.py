"""Ports of the FIR service: what the service layer needs from the outside.

Requests need FIR storage, the legal knowledge base and the inference proxy;
background work needs the outbox, the jobs service, documents, statistics
roll-ups, the webhook and retention purges."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from afirgen_runtime.identity import Caller

from afirgen_fir.domain.jobs import JobRequest
from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.domain.model import Fir, FirStatus
from afirgen_fir.domain.queries import FirFilter, ListQuery


# --- requests -----------------------------------------------------------------
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


@dataclass(frozen=True, slots=True)
class SerializedFir:
    """A whole FIR as the transport sends it, with what a read needs without parsing it:
    the reader's scope check (station, district) and the response headers (etag, status)."""

    id: str
    revision: int
    status: FirStatus
    station: str
    district: str
    etag: str
    data: bytes
    """The FIR in the transport's wire form (opaque to the service layer)."""


@dataclass(frozen=True, slots=True)
class SerializedPage:
    """One page of FIRs in the transport's wire form, with what the response needs beside it."""

    data: bytes
    """The FIRs of the page (opaque to the service layer)."""
    next_page_token: str
    total_size: int


class SerializedFirs(Protocol):
    """FIRs and pages already in their wire form (a cache of them)."""

    async def get_serialized(self, fir_id: str) -> SerializedFir | None:
        """The FIR ``fir_id``, or ``None`` when there is none."""
        ...

    async def list_page_serialized(self, query: ListQuery) -> tuple[bytes, tuple[str, int] | None]:
        """A page in its wire form and the keyset after its last row (None on the last page)."""
        ...

    async def stats_serialized(self, flt: FirFilter, days: int, now: datetime) -> bytes:
        """Statistics (as :meth:`FirRepository.stats`) in their wire form."""
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
    """Time the model server took for the answer (the proxy's ``Usage.model_time``)."""
    language: str = ""
    queue_millis: float = 0.0
    """Time the call waited in the proxy for a free slot of the model server."""


@dataclass(frozen=True)
class Prompt:
    """What a deterministic (temperature 0) completion is asked to continue, and how far."""

    messages: list[tuple[str, str]]
    """``(role, content)`` pairs, oldest first."""
    max_tokens: int = 512
    """Longest answer, in tokens."""
    stop: tuple[str, ...] = ()
    """Strings that end the answer where they appear (not included in it)."""


class InferenceClient(Protocol):
    """The inference proxy, as the FIR service uses it."""

    async def generate(self, prompt: Prompt, *, budget_seconds: float | None = None) -> ModelReply:
        """One completion of ``prompt``.

        ``budget_seconds`` bounds this call below the caller's own deadline:
        DeadlineExceeded when the model has not answered by then."""
        ...

    def stream_generate(
        self, prompt: Prompt, *, budget_seconds: float | None = None
    ) -> AsyncIterator[str | ModelReply]:
        """Text deltas as they come, then the whole reply (DeadlineExceeded past ``budget_seconds``)."""
        ...

    async def transcribe(self, audio: bytes, language: str) -> ModelReply:
        """Speech to text."""
        ...

    async def recognize_text(self, image: bytes, languages: list[str]) -> ModelReply:
        """Text on a scanned page."""
        ...


# --- background work ----------------------------------------------------------
@dataclass(frozen=True)
class OutboxEntry:
    """A job waiting to be handed to the jobs service."""

    pk: int
    job: JobRequest
    idempotency_key: str
    attempts: int
    trace_parent: str = ""
    """W3C ``traceparent`` of the request that wrote the row ('' without tracing)."""


@dataclass(frozen=True)
class StoredDocument:
    """A rendered FIR document."""

    fir_id: str
    revision: int
    content: bytes
    sha256: str


class OutboxStore(Protocol):
    """Durable outbox rows (written by the FIR repository in its transactions)."""

    async def pending(self, limit: int) -> list[OutboxEntry]:
        """Rows due for a send, oldest first."""
        ...

    async def mark_sent(self, sent: Sequence[tuple[int, str]]) -> None:
        """The jobs service has these rows' jobs: ``(pk, job_id)`` each."""
        ...

    async def mark_failed(self, pk: int, error: str, retry_in_seconds: float) -> None:
        """Try again later."""
        ...


class JobQueue(Protocol):
    """The jobs service."""

    async def enqueue(self, job: JobRequest, idempotency_key: str) -> str:
        """Durably enqueue; the same key returns the same job. Returns the job id."""
        ...


class DocumentStore(Protocol):
    """Rendered FIR documents."""

    async def document(self, fir_id: str) -> StoredDocument | None:
        """The latest document of an FIR."""
        ...

    async def revision(self, fir_id: str) -> int | None:
        """The revision of the FIR's stored document, without reading the document."""
        ...

    async def save_document(self, fir_id: str, revision: int, finalized: bool, content: bytes) -> int:
        """Store unless a newer revision is stored; returns the stored revision."""
        ...


class DailyCounts(Protocol):
    """The FIR counts behind statistics (kept by every write; this repairs them)."""

    async def rollup(self, day: date, station: str) -> int:
        """Recompute one station's counts of one local day from the FIRs; returns the rows written."""
        ...


class Notifier(Protocol):
    """Delivers a signed notification (the webhook)."""

    async def send(self, body: dict[str, Any], idempotency_key: str) -> str:
        """POST ``body``; Unavailable to retry, FailedPrecondition when refused for good."""
        ...


class RetentionStore(Protocol):
    """Bounded deletes of rows past their retention window (``DELETE ... LIMIT``, oldest first)."""

    async def delete_idempotency_keys(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` idempotency keys created before ``before``; returns how many."""
        ...

    async def delete_sent_outbox(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` outbox rows sent before ``before``; returns how many."""
        ...
