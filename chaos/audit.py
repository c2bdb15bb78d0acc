"""What a fault cost in data, read from the database once the stack has settled.

Every count here must be 0 after any fault:

- acknowledged writes lost: an FIR the edge answered 200 for that is not stored, or an
  acknowledged finalization that did not stick;
- duplicates: an FIR of the run's stations bound to no idempotency key (every write of the load
  carries one, so a second FIR for one request would have none), or a key bound to another FIR
  than the one acknowledged;
- numbering faults: per station and year the numbers are 1..n, no gap and no repeat;
- jobs lost: an outbox row never handed to the jobs service, or a job that did not succeed.

Jobs that needed more than one attempt and webhook notices delivered more than once are
counted too: delivery is at least once by design (a handler cut off mid-call runs again), so
they are reported, not refused; a receiver drops repeats by their ``Idempotency-Key``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pymysql

from chaos.load import Ledger
from chaos.webhooks import Receiver

JOB_DONE = {3: "SUCCEEDED", 5: "DEAD", 6: "CANCELLED"}
"""Final job states (jobs.status codes)."""
SUCCEEDED = 3
NOTIFY = "fir.notify_finalized"


@dataclass(frozen=True)
class Audit:
    """The data a fault cost."""

    writes_lost: int
    duplicates: int
    numbering_faults: int
    jobs_lost: int
    jobs_rerun: int
    webhooks_repeated: int
    webhooks_missing: int
    firs: int
    jobs: int
    lost_jobs: tuple[str, ...] = ()
    """Each lost job as ``type: STATUS after N attempts: last error`` (or never enqueued)."""


class Database:
    """Read-only queries on the stack's ``fir`` and ``jobs`` schemas (as the services' user)."""

    def __init__(self, connect: dict[str, Any]) -> None:
        self._connect = connect

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        conn = pymysql.connect(**self._connect, autocommit=True, connect_timeout=5, read_timeout=30)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    async def rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """All rows of ``sql`` (run in a thread)."""
        return await asyncio.to_thread(self._rows, sql, args)


def _lost(kind: str, job_id: str | None, status: int, attempts: int, error: str) -> str:
    """How a lost job ended, for the gate's message."""
    if not job_id:
        return f"{kind}: never enqueued"
    state = JOB_DONE.get(status, f"status {status}")
    return f"{kind}: {state} after {attempts} attempt{'s' * (attempts != 1)}" + (f": {error}" if error else "")


def _in(values: list[str]) -> str:
    return ", ".join(["%s"] * len(values))


class Auditor:
    """Waits for the jobs of a run to settle, then counts what was lost or repeated."""

    def __init__(self, db: Database, webhooks: Receiver | None) -> None:
        self._db = db
        self._webhooks = webhooks

    async def _firs(self, stations: list[str]) -> list[tuple[Any, ...]]:
        return await self._db.rows(
            "SELECT f.id, f.station_code, f.fir_year, f.fir_seq, f.status, k.idem_key FROM fir.firs f"  # noqa: S608 - placeholders only
            f" LEFT JOIN fir.fir_idempotency_keys k ON k.fir_pk = f.pk WHERE f.station_code IN ({_in(stations)})",
            tuple(stations),
        )

    async def _jobs(self, stations: list[str]) -> list[tuple[Any, ...]]:
        """(outbox pk, job type, job id, job status, attempts, last error) of every outbox row of
        ``stations``."""
        outbox = await self._db.rows(
            "SELECT o.pk, o.job_type, o.job_id FROM fir.fir_outbox o JOIN fir.firs f ON f.pk = o.fir_pk"  # noqa: S608 - placeholders only
            f" WHERE f.station_code IN ({_in(stations)})",
            tuple(stations),
        )
        ids = [job_id for _, _, job_id in outbox if job_id]
        jobs: dict[str, tuple[int, int, str]] = {}
        if ids:
            found = await self._db.rows(
                "SELECT j.id, j.status, (SELECT COUNT(*) FROM jobs.job_attempts a WHERE a.job_pk = j.pk"  # noqa: S608 - placeholders only
                f" AND a.outcome <> 'RELEASED'), j.last_error FROM jobs.jobs j WHERE j.id IN ({_in(ids)})",
                tuple(ids),
            )
            jobs = {job_id: (int(status), int(attempts), error) for job_id, status, attempts, error in found}
        return [(pk, kind, job_id, *jobs.get(job_id, (0, 0, ""))) for pk, kind, job_id in outbox]

    async def settle(self, stations: list[str], within: float) -> bool:
        """Wait until every outbox row of ``stations`` is a finished job; False if ``within`` ran out."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            jobs = await self._jobs(stations)
            if all(job_id and status in JOB_DONE for _, _, job_id, status, *_ in jobs):
                return True
            await asyncio.sleep(1.0)
        return False

    async def audit(self, ledger: Ledger) -> Audit:
        """Count what the run's faults cost (after :meth:`settle`)."""
        firs = await self._firs(ledger.stations)
        stored = {row[0]: row for row in firs}
        acked_ids = {fir["id"] for fir in ledger.acked.values()}
        lost = len(acked_ids - set(stored))
        lost += sum(1 for fir_id in ledger.finalized if fir_id not in stored or stored[fir_id][4] != 2)
        bound = {row[5]: row[0] for row in firs if row[5]}
        duplicates = sum(1 for row in firs if not row[5])
        duplicates += sum(1 for key, fir in ledger.acked.items() if bound.get(key, fir["id"]) != fir["id"])
        numbers: dict[tuple[str, int], list[int]] = defaultdict(list)
        for row in firs:
            numbers[(row[1], row[2])].append(int(row[3]))
        numbering = sum(sorted(seqs) != list(range(1, len(seqs) + 1)) for seqs in numbers.values())
        jobs = await self._jobs(ledger.stations)
        lost_jobs = tuple(
            _lost(kind, job_id, status, attempts, error)
            for _, kind, job_id, status, attempts, error in jobs
            if not job_id or status != SUCCEEDED
        )
        rerun = sum(1 for *_, attempts, _ in jobs if attempts > 1)
        repeated = missing = 0
        if self._webhooks is not None:
            notices = self._webhooks.for_firs(set(stored))
            repeated = self._webhooks.repeated(notices)
            notified = {d.json().get("fir_id") for d in notices}
            missing = sum(1 for _, kind, *_ in jobs if kind == NOTIFY) - len(notified)
        return Audit(
            lost,
            duplicates,
            numbering,
            len(lost_jobs),
            rerun,
            repeated,
            max(0, missing),
            len(firs),
            len(jobs),
            lost_jobs,
        )
