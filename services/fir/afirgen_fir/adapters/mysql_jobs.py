"""The fir schema's tables for background work: outbox and documents (created by
``migrations/fir/0003_fir_jobs.sql``), and the repair of FIR counts (``0005``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from afirgen_runtime import tracing
from afirgen_runtime.db import Connection, Database, Statement, to_db_time

from afirgen_fir.adapters import count_sql
from afirgen_fir.domain.jobs import JobRequest
from afirgen_fir.service_layer.ports import OutboxEntry, StoredDocument

INSERT_OUTBOX = Statement(
    "fir.outbox_insert",
    "INSERT INTO fir_outbox (fir_pk, job_type, payload, priority, idempotency_key, trace_parent,"
    " next_attempt_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
)
PENDING_OUTBOX = Statement(
    "fir.outbox_pending",
    "SELECT pk, job_type, payload, priority, idempotency_key, attempts, trace_parent FROM fir_outbox"
    " WHERE sent_at IS NULL AND next_attempt_at <= %s ORDER BY next_attempt_at, pk LIMIT %s",
)


def outbox_sent(rows: int) -> Statement:
    """Marks ``rows`` rows sent in one statement: arguments ``sent_at``, then ``(pk, job_id)`` of
    each row, then the pks again."""
    cases = " ".join(["WHEN %s THEN %s"] * rows)
    return Statement(
        "fir.outbox_sent",
        f"UPDATE fir_outbox SET sent_at = %s, job_id = CASE pk {cases} END"
        f" WHERE pk IN ({', '.join(['%s'] * rows)}) AND sent_at IS NULL",
    )


OUTBOX_FAILED = Statement(
    "fir.outbox_failed",
    "UPDATE fir_outbox SET attempts = attempts + 1, next_attempt_at = %s, last_error = %s"
    " WHERE pk = %s AND sent_at IS NULL",
)
GET_DOCUMENT = Statement("fir.document_get", "SELECT revision, content, sha256 FROM fir_documents WHERE fir_id = %s")
# Assignments run left to right: `revision` goes last so the conditions see the old one.
# The content travels as hex: aiomysql cannot escape bytes with the pinned PyMySQL.
SAVE_DOCUMENT = Statement(
    "fir.document_save",
    "INSERT INTO fir_documents (fir_id, revision, status, content, sha256, rendered_at)"
    " VALUES (%s, %s, %s, UNHEX(%s), %s, %s) ON DUPLICATE KEY UPDATE"
    " status = IF(VALUES(revision) >= revision, VALUES(status), status),"
    " content = IF(VALUES(revision) >= revision, VALUES(content), content),"
    " sha256 = IF(VALUES(revision) >= revision, VALUES(sha256), sha256),"
    " rendered_at = IF(VALUES(revision) >= revision, VALUES(rendered_at), rendered_at),"
    " revision = GREATEST(revision, VALUES(revision))",
)
DOCUMENT_REVISION = Statement("fir.document_revision", "SELECT revision FROM fir_documents WHERE fir_id = %s")


async def write_outbox(conn: Connection, fir_pk: int, jobs: list[JobRequest], now: datetime) -> None:
    """Insert outbox rows inside the caller's transaction (the FIR change's), each with the
    trace context of the request making the change, so its job joins the request's trace."""
    db_now = to_db_time(now)
    trace_parent = tracing.inject()
    rows = [
        (
            fir_pk,
            job.type,
            json.dumps(job.payload, separators=(",", ":"), sort_keys=True),
            job.priority,
            f"fir-outbox-{uuid.uuid4()}",
            trace_parent,
            db_now,
            db_now,
        )
        for job in jobs
    ]
    await conn.execute_many(INSERT_OUTBOX, rows)


class MySQLOutbox:
    """:class:`~afirgen_fir.service_layer.ports.OutboxStore` on MySQL."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    async def pending(self, limit: int) -> list[OutboxEntry]:
        """Due unsent rows, oldest first."""
        rows = await self._db.fetch_all(PENDING_OUTBOX, (to_db_time(self._clock()), limit))
        return [
            OutboxEntry(
                int(pk), JobRequest(job_type, json.loads(payload), int(priority)), key, int(attempts), trace_parent
            )
            for pk, job_type, payload, priority, key, attempts, trace_parent in rows
        ]

    async def mark_sent(self, sent: Sequence[tuple[int, str]]) -> None:
        """Record the job ids; the rows are done. One statement for a batch of sends."""
        if not sent:
            return
        args = [to_db_time(self._clock()), *(value for row in sent for value in row), *(pk for pk, _ in sent)]
        await self._db.run(lambda c: c.execute(outbox_sent(len(sent)), args))

    async def mark_failed(self, pk: int, error: str, retry_in_seconds: float) -> None:
        """Schedule the next send."""
        retry_at = to_db_time(self._clock() + timedelta(seconds=retry_in_seconds))
        await self._db.run(lambda c: c.execute(OUTBOX_FAILED, (retry_at, error[:512], pk)))


class MySQLDocumentStore:
    """:class:`~afirgen_fir.service_layer.ports.DocumentStore` on MySQL (``fir_documents``)."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    async def document(self, fir_id: str) -> StoredDocument | None:
        """The stored document, if any."""
        row = await self._db.fetch_one(GET_DOCUMENT, (fir_id,))
        if row is None:
            return None
        revision, content, digest = row
        return StoredDocument(fir_id, int(revision), bytes(content), digest)

    async def revision(self, fir_id: str) -> int | None:
        """The stored document's revision (its content stays in the database)."""
        row = await self._db.fetch_one(DOCUMENT_REVISION, (fir_id,))
        return None if row is None else int(row[0])

    async def save_document(self, fir_id: str, revision: int, finalized: bool, content: bytes) -> int:
        """Conditional upsert: never replaces a newer revision."""
        digest = hashlib.sha256(content).hexdigest()
        args = (fir_id, revision, 2 if finalized else 1, content.hex(), digest, to_db_time(self._clock()))

        async def work(conn: Connection) -> int:
            await conn.execute(SAVE_DOCUMENT, args)
            row = await conn.fetch_one(DOCUMENT_REVISION, (fir_id,))
            return int(row[0]) if row else revision

        return await self._db.run(work, transaction=True)


class MySQLDailyCounts:
    """:class:`~afirgen_fir.service_layer.ports.DailyCounts` on MySQL (``fir_counts``)."""

    def __init__(self, db: Database, *, utc_offset: timedelta) -> None:
        self._db = db
        self._offset = utc_offset
        """Local time of the counts' days (the FIR numbering offset)."""

    async def rollup(self, day: date, station: str) -> int:
        """Recompute one station's counts of one local day, and its month and year, from
        ``firs`` (idempotent). The counts follow every write already; this repairs them."""
        return await count_sql.recount(self._db, self._offset, station, day)
