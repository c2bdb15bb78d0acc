"""Retention against the real MariaDB and services of the test stack: the FIR service's purge
of idempotency keys and sent outbox rows, and the daily purge jobs both services schedule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from afirgen_fir.adapters.mysql_repository import MySQLFirRepository
from afirgen_fir.adapters.mysql_retention import MySQLRetentionStore
from afirgen_fir.domain.model import Complainant, Fir, Station
from afirgen_fir.domain.retention import RetentionPolicy
from afirgen_fir.service_layer.ports import Change, IdempotencyKey
from afirgen_fir.service_layer.retention import FirRetention
from afirgen_jobs.domain.model import STATUS_CODES, JobStatus
from afirgen_runtime.db import Database, Statement

from scripts.devstack.stack import Stack
from tests.conftest import mysql_settings, unique_station
from tests.integration.fir_rows import IST, stored_fir_pk
from tests.waiting import until

pytestmark = pytest.mark.integration
DAY = timedelta(days=1)


def _db(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def _purge(db: Database, now: datetime) -> FirRetention:
    """The purge as the service runs it, with small batches so several statements run."""
    return FirRetention(MySQLRetentionStore(db), RetentionPolicy(batch_rows=2), lambda: now)


async def test_only_idempotency_keys_past_seven_days_are_purged(fir_db: Database) -> None:
    now, tag = datetime.now(UTC), uuid.uuid4().hex
    ages = {"8-days": 8 * DAY, "9-days": 9 * DAY, "10-days": 10 * DAY, "6-days": 6 * DAY, "1-hour": timedelta(hours=1)}
    insert = Statement(
        "t.key_insert",
        "INSERT INTO fir_idempotency_keys (idem_key, request_hash, fir_pk, created_at) VALUES (%s, %s, 1, %s)",
    )
    for name, age in ages.items():
        await fir_db.run(lambda c, n=name, a=age: c.execute(insert, (f"{tag}-{n}", "h" * 64, _db(now - a))))
    await _purge(fir_db, now).purge()
    rows = await fir_db.fetch_all(
        Statement("t.keys", "SELECT idem_key FROM fir_idempotency_keys WHERE idem_key LIKE %s ORDER BY idem_key"),
        (f"{tag}-%",),
    )
    assert [row[0].removeprefix(f"{tag}-") for row in rows] == ["1-hour", "6-days"]


async def test_sent_outbox_rows_past_seven_days_are_purged_and_unsent_ones_never(fir_db: Database) -> None:
    now, tag, fir_pk = datetime.now(UTC), uuid.uuid4().hex, await stored_fir_pk(fir_db)
    rows = {  # name: (created, sent); unsent rows wait far in the future, out of the relay's way
        "sent-8-days-ago": (now - 9 * DAY, now - 8 * DAY),
        "sent-yesterday": (now - 2 * DAY, now - DAY),
        "unsent-for-a-month": (now - 30 * DAY, None),
    }
    insert = Statement(
        "t.outbox_insert",
        "INSERT INTO fir_outbox (fir_pk, job_type, payload, priority, idempotency_key, next_attempt_at, created_at,"
        " sent_at) VALUES (%s, 'fir.rollup_stats', '{}', 2, %s, %s, %s, %s)",
    )
    later = _db(now + 365 * DAY)
    for name, (created, sent) in rows.items():
        args = (fir_pk, f"{tag}-{name}", later, _db(created), _db(sent) if sent else None)
        await fir_db.run(lambda c, a=args: c.execute(insert, a))
    await _purge(fir_db, now).purge()
    left = await fir_db.fetch_all(
        Statement("t.outbox", "SELECT idempotency_key FROM fir_outbox WHERE idempotency_key LIKE %s"), (f"{tag}-%",)
    )
    assert sorted(row[0].removeprefix(f"{tag}-") for row in left) == ["sent-yesterday", "unsent-for-a-month"]


async def test_a_retry_after_the_window_makes_a_new_fir(fir_db: Database) -> None:
    """Documented: a client retrying more than 7 days later gets a new FIR, not the first one."""
    now, station = datetime.now(UTC), unique_station()
    key = IdempotencyKey(f"late-{uuid.uuid4()}", "same-request")

    def repo(at: datetime) -> MySQLFirRepository:
        return MySQLFirRepository(fir_db, clock=lambda: at, numbering_utc_offset=IST)

    fir = Fir(station=Station(code=station), complainant=Complainant(name="Late Retry"))
    first, _ = await repo(now - 8 * DAY).create(fir, action="CREATED", idempotency=key, change=Change("t", "r"))
    await _purge(fir_db, now).purge()
    again = Fir(station=Station(code=station), complainant=Complainant(name="Late Retry"))
    second, _ = await repo(now).create(again, action="CREATED", idempotency=key, change=Change("t", "r"))
    assert second.id != first.id


async def _job_status(stack: Stack, key: str, want: JobStatus, within: float = 60.0) -> JobStatus | None:
    """The status of the job with idempotency key ``key`` once it is ``want`` (AssertionError after ``within``)."""
    db = Database(mysql_settings(stack, "jobs"))
    query = Statement("t.job_by_key", "SELECT status FROM jobs WHERE idempotency_key = %s")
    by_code = {code: status for status, code in STATUS_CODES.items()}

    async def status() -> JobStatus | None:
        row = await db.fetch_one(query, (key,))
        return by_code[int(row[0])] if row else None

    try:
        return await until(status, lambda seen: seen is want, within=within, every=0.2, what=f"{key} {want.value}")
    finally:
        await db.close()


async def test_the_fir_service_schedules_todays_purge_and_it_runs(stack: Stack) -> None:
    key = f"fir.purge_retention/{datetime.now(UTC).date().isoformat()}"
    assert await _job_status(stack, key, JobStatus.SUCCEEDED) is JobStatus.SUCCEEDED


async def test_the_jobs_service_schedules_todays_purge_of_finished_jobs_and_it_runs(stack: Stack) -> None:
    key = f"jobs.purge_finished/{datetime.now(UTC).date().isoformat()}"
    assert await _job_status(stack, key, JobStatus.SUCCEEDED) is JobStatus.SUCCEEDED
