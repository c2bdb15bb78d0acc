"""Ports of the FIR service's background work: the outbox, the jobs service,
documents, statistics roll-ups, the webhook and retention purges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from afirgen_fir.domain.jobs import JobRequest


@dataclass(frozen=True)
class OutboxEntry:
    """A job waiting to be handed to the jobs service."""

    pk: int
    job: JobRequest
    idempotency_key: str
    attempts: int


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

    async def mark_sent(self, pk: int, job_id: str) -> None:
        """The jobs service has the job."""
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
