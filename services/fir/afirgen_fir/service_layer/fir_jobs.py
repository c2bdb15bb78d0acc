"""The FIR service's job handlers and its document downloads.

Handlers are called by the jobs workers, at least once per job: each one is
idempotent. Errors say whether to retry: ``Unavailable`` (database or webhook
down) retries, ``InvalidArgument``/``NotFound``/``FailedPrecondition`` fail the
job for good.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from afirgen_runtime.errors import FailedPrecondition, UnknownJobType
from afirgen_runtime.ids import check_id

from afirgen_fir.domain import jobs
from afirgen_fir.domain.errors import DocumentNotReady, FirNotFound
from afirgen_fir.domain.model import Fir, FirStatus
from afirgen_fir.service_layer.fir_service import FIR_ID
from afirgen_fir.service_layer.ports import DailyCounts, DocumentStore, FirRepository, Notifier, StoredDocument
from afirgen_fir.service_layer.retention import FirRetention

Renderer = Callable[[Fir], Awaitable[bytes]]


@dataclass(frozen=True)
class Document:
    """A document ready for download."""

    content: bytes
    filename: str
    revision: int
    finalized: bool


class FirJobHandlers:
    """``fir.render_document``, ``fir.notify_finalized``, ``fir.rollup_stats`` and ``fir.purge_retention``."""

    def __init__(
        self,
        firs: FirRepository,
        documents: DocumentStore,
        counts: DailyCounts,
        render: Renderer,
        notifier: Notifier | None,
        retention: FirRetention | None = None,
        pace: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._firs = firs
        self._pace = pace
        self._documents = documents
        self._counts = counts
        self._render = render
        self._notifier = notifier
        self._retention = retention

    async def handle(self, job_type: str, payload: dict[str, Any], idempotency_key: str) -> str:
        """Run one job, once ``pace`` gives it its turn (while the service is busy with requests,
        jobs wait theirs); returns a short note kept on the attempt."""
        if self._pace is not None:
            await self._pace()
        if job_type == jobs.RENDER_DOCUMENT:
            return await self.render(jobs.payload_str(payload, "fir_id"))
        if job_type == jobs.NOTIFY_FINALIZED:
            return await self.notify(jobs.payload_str(payload, "fir_id"), idempotency_key)
        if job_type == jobs.ROLLUP_STATS:
            day = jobs.payload_day(payload)
            rows = await self._counts.rollup(day, jobs.payload_str(payload, "station"))
            return f"{rows} count rows for {day.isoformat()}"
        if job_type == jobs.PURGE_RETENTION:
            if self._retention is None:
                raise FailedPrecondition("this fir service purges nothing (no retention store)")
            return await self._retention.purge()
        raise UnknownJobType.for_field("type", f"the fir service has no job {job_type!r}")

    async def _fir(self, fir_id: str) -> Fir:
        fir = await self._firs.get(check_id(fir_id, FIR_ID, "payload.fir_id"))
        if fir is None:
            raise FirNotFound("no FIR with this id")
        return fir

    async def render(self, fir_id: str) -> str:
        """Render the FIR as it is now, unless a document of this revision exists."""
        fir = await self._fir(fir_id)
        current = await self._documents.revision(fir.id)
        if current is not None and current >= fir.revision:
            return f"document of revision {current} is up to date"
        content = await self._render(fir)
        stored = await self._documents.save_document(fir.id, fir.revision, fir.status is FirStatus.FINALIZED, content)
        return f"rendered revision {fir.revision} ({len(content)} bytes); stored revision {stored}"

    async def notify(self, fir_id: str, idempotency_key: str) -> str:
        """POST the finalization notice to the configured webhook."""
        fir = await self._fir(fir_id)
        jobs.ensure_finalized(fir)
        if self._notifier is None:
            return "no webhook configured"
        return await self._notifier.send(jobs.notification_for(fir), idempotency_key)


class FirDocuments:
    """Downloads of rendered FIR documents."""

    def __init__(self, firs: FirRepository, store: DocumentStore) -> None:
        self._firs = firs
        self._store = store

    async def fetch(self, fir_id: str) -> Document:
        """The document of the FIR's current revision; DOCUMENT_NOT_READY while it renders."""
        fir = await self._firs.get(check_id(fir_id, FIR_ID), frozenset({"fir_number", "status"}))
        if fir is None:
            raise FirNotFound("no FIR with this id")
        stored: StoredDocument | None = await self._store.document(fir.id)
        if stored is None or stored.revision < fir.revision:
            raise DocumentNotReady(
                "the FIR document is being rendered; retry in a few seconds",
                metadata={"fir_revision": str(fir.revision)},
            )
        name = "FIR-" + fir.fir_number.replace("/", "-") + ".pdf"
        return Document(stored.content, name, stored.revision, fir.status is FirStatus.FINALIZED)
