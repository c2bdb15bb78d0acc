"""fir's outbox on MariaDB: the relay marks the rows of a batch of sends in one statement."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from afirgen_fir.adapters.mysql_jobs import MySQLOutbox
from afirgen_runtime.db import Database, Statement

from tests.integration.fir_rows import stored_fir_pk

pytestmark = pytest.mark.integration

INSERT = Statement(
    "t.outbox_insert",
    "INSERT INTO fir_outbox (fir_pk, job_type, payload, priority, idempotency_key, next_attempt_at, created_at)"
    " VALUES (%s, 'fir.rollup_stats', '{}', 2, %s, %s, %s)",
)
SENT = Statement("t.outbox_sent", "SELECT idempotency_key, job_id FROM fir_outbox WHERE idempotency_key LIKE %s")


async def test_a_batch_of_sends_is_marked_row_by_row_with_its_own_job_ids(fir_db: Database) -> None:
    now, tag, fir_pk = datetime.now(UTC), uuid.uuid4().hex, await stored_fir_pk(fir_db)
    later = (now + timedelta(days=365)).replace(tzinfo=None)  # out of the running relay's way
    pks = [
        await fir_db.run(lambda c, n=n: c.insert(INSERT, (fir_pk, f"{tag}-{n}", later, now.replace(tzinfo=None))))
        for n in range(3)
    ]
    await MySQLOutbox(fir_db, lambda: now).mark_sent([(pks[2], "job-c"), (pks[0], "job-a")])
    rows = await fir_db.fetch_all(SENT, (f"{tag}-%",))
    assert sorted((key.removeprefix(f"{tag}-"), job) for key, job in rows) == [
        ("0", "job-a"),
        ("1", None),
        ("2", "job-c"),
    ]
