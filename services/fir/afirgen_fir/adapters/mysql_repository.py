"""FIR storage in MySQL (schema created by ``migrations/fir``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pymysql
from afirgen_runtime.db import Connection, Database, from_db_time, to_db_time
from afirgen_runtime.errors import AlreadyExists, IdempotencyKeyReused

from afirgen_fir.adapters import count_sql, sql
from afirgen_fir.adapters.json_codec import dumps, loads
from afirgen_fir.adapters.mysql_jobs import write_outbox
from afirgen_fir.domain import counts
from afirgen_fir.domain.errors import FirNotFound
from afirgen_fir.domain.jobs import jobs_for_change
from afirgen_fir.domain.model import (
    Complainant,
    Complaint,
    ComplaintSource,
    Fir,
    FirStatus,
    GenerationInfo,
    Incident,
    LegalSectionRef,
    Officer,
    Person,
    Property,
    StatedFact,
    Station,
    fir_number,
)
from afirgen_fir.domain.queries import FirFilter, ListQuery
from afirgen_fir.service_layer.ports import Change, FirCounts, FirEvent, IdempotencyKey

DUPLICATE_KEY = 1062


def row_to_fir(columns: Sequence[str], row: Sequence[Any]) -> tuple[int, Fir]:
    """Build a (possibly partial) FIR from selected columns; returns (pk, fir)."""
    r = dict(zip(columns, row, strict=True))
    fir = Fir(
        id=r["id"],
        status=FirStatus(sql.STATUS_NAMES[r["status"]]),
        revision=r["revision"],
        create_time=from_db_time(r["created_at"]),
        update_time=from_db_time(r["updated_at"]),
    )
    if "fir_number" in r:
        fir.fir_number = r["fir_number"]
    if "station_code" in r:
        fir.station = Station(r["station_code"], r["station_name"], r["station_district"], r["station_state"])
    if "complainant" in r:
        fir.complainant = loads(r["complainant"], Complainant)
    if "incident" in r:
        fir.incident = loads(r["incident"], Incident)
    if "accused" in r:
        fir.accused = loads(r["accused"], list[Person])
    if "witnesses" in r:
        fir.witnesses = loads(r["witnesses"], list[Person])
    if "properties" in r:
        fir.properties = loads(r["properties"], list[Property])
    if "complaint_text" in r:
        fir.complaint = Complaint(
            ComplaintSource(sql.SOURCE_NAMES[r["complaint_source"]]),
            r["complaint_text"],
            r["complaint_language"],
        )
    for name in ("summary", "narrative", "action_taken"):
        if name in r:
            setattr(fir, name, r[name])
    if "legal_sections" in r:
        fir.legal_sections = loads(r["legal_sections"], list[LegalSectionRef])
    if "officer_name" in r:
        fir.investigating_officer = Officer(r["officer_name"], r["officer_rank"])
    if "generation" in r:
        fir.generation = loads(r["generation"], GenerationInfo)
    if "facts" in r:
        fir.facts = loads(r["facts"], list[StatedFact]) or []
    if "finalized_at" in r:
        fir.finalize_time = from_db_time(r["finalized_at"])
    return r["pk"], fir


def _mutable_values(fir: Fir) -> list[Any]:
    return [
        dumps(fir.complainant),
        dumps(fir.incident),
        dumps(fir.accused),
        dumps(fir.witnesses),
        dumps(fir.properties),
        fir.summary,
        fir.narrative,
        dumps(fir.legal_sections),
        fir.action_taken,
        fir.investigating_officer.name,
        fir.investigating_officer.rank,
        dumps(fir.generation) if fir.generation else None,
        sql.STATUS_CODES[fir.status.value],
        to_db_time(fir.finalize_time) if fir.finalize_time else None,
    ]


class MySQLFirRepository:
    """:class:`~afirgen_fir.service_layer.ports.FirRepository` on MySQL."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        numbering_utc_offset: timedelta,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._offset = numbering_utc_offset
        # Called after a change (and its outbox rows) committed: wakes the outbox relay.
        self._on_commit = on_commit or (lambda: None)

    async def ping(self) -> bool:
        return await self._db.ping()

    # --- create ---------------------------------------------------------------
    async def create(
        self, fir: Fir, *, action: str, idempotency: IdempotencyKey | None, change: Change
    ) -> tuple[Fir, bool]:
        now = self._clock()
        fir.id = fir.id or str(uuid.uuid4())
        fir.create_time = fir.update_time = now
        fir.revision = 1
        fir.status = FirStatus.DRAFT
        year = (now + self._offset).year

        async def work(conn: Connection) -> tuple[int, Fir]:
            db_now = to_db_time(now)
            if idempotency is not None:
                await conn.execute(sql.CLAIM_IDEMPOTENCY, (idempotency.key, idempotency.request_hash, db_now))
            seq = await conn.insert(sql.NEXT_SEQ, (fir.station.code, year))
            fir.fir_number = fir_number(fir.station.code, year, seq)
            st = fir.station
            created = (
                *(fir.id, st.code, st.name, st.district, st.state, year, seq, fir.fir_number),
                *(sql.SOURCE_CODES[fir.complaint.source.value], fir.complaint.language, fir.complaint.text),
                *(dumps(fir.facts) if fir.facts else None, fir.revision, db_now, db_now),
            )
            pk = await conn.insert(sql.INSERT_FIR, (*created, *_mutable_values(fir)))
            await conn.execute_many(
                sql.INSERT_SECTIONS,
                [(pk, ref.act, ref.section, db_now, db_now, st.code, st.district) for ref in fir.legal_sections],
            )
            await self._count(conn, None, fir)
            if idempotency is not None:
                await conn.execute(sql.BIND_IDEMPOTENCY, (pk, idempotency.key))
            await self._audit(conn, pk, action, change, sorted(_filled_fields(fir)), fir.revision, db_now)
            await write_outbox(conn, pk, jobs_for_change(action, fir, []), db_now)
            return pk, fir

        try:
            _, stored = await self._db.run(work, transaction=True)
            self._on_commit()
            return stored, True
        except pymysql.err.IntegrityError as exc:
            if idempotency is None or exc.args[0] != DUPLICATE_KEY:
                raise
        # The key was used before (possibly by a request that committed while
        # this one waited on the key's row lock): answer with its FIR.
        return await self._replay(idempotency), False

    async def find_by_idempotency_key(self, key: IdempotencyKey) -> Fir | None:
        row = await self._db.fetch_one(sql.GET_IDEMPOTENCY, (key.key,))
        return None if row is None else await self._replay(key, row)

    async def _replay(self, idempotency: IdempotencyKey, row: tuple[Any, ...] | None = None) -> Fir:
        row = row or await self._db.fetch_one(sql.GET_IDEMPOTENCY, (idempotency.key,))
        if row is None or not row[1]:  # the first request has not committed or rolled back; rare
            raise AlreadyExists("the idempotency key is in use by a request that did not finish; retry")
        request_hash, pk = row
        if request_hash != idempotency.request_hash:
            raise IdempotencyKeyReused("the idempotency key was used before with a different request")
        columns = sql.ALL_COLUMNS
        found = await self._db.fetch_one(sql.get_by_pk(columns), (pk,))
        if found is None:
            raise FirNotFound("the FIR of this idempotency key no longer exists")
        return row_to_fir(columns, found)[1]

    # --- reads ----------------------------------------------------------------
    async def get(self, fir_id: str, fields: frozenset[str] = frozenset()) -> Fir | None:
        columns = sql.select_columns(fields)
        row = await self._db.fetch_one(sql.get_by_id(columns), (fir_id,))
        return None if row is None else row_to_fir(columns, row)[1]

    async def list_page(self, query: ListQuery) -> tuple[list[Fir], tuple[str, int] | None]:
        columns = sql.select_columns(query.fields)
        after = None
        if query.after is not None:
            after = (to_db_time(datetime.fromisoformat(query.after[0])), int(query.after[1]))
        fetch = query.page_size + 1
        while True:
            stmt, args = sql.list_page(columns, query.filter, query.order_field, query.descending, after, fetch)
            rows = await self._db.fetch_all(stmt, args)
            # A page read through fir_sections holds an FIR citing the section number under
            # two acts twice, in adjacent rows: keep one, and read further if that left the
            # page short while more rows may follow.
            page = [row_to_fir(columns, row) for i, row in enumerate(rows) if i == 0 or row[0] != rows[i - 1][0]]
            if len(page) > query.page_size or len(rows) < fetch:
                break
            fetch *= 2
        next_key = None
        if len(page) > query.page_size:
            pk, last = page[query.page_size - 1]
            when = last.create_time if query.order_field == "create_time" else last.update_time
            assert when is not None
            next_key = (when.isoformat(), pk)
        return [fir for _, fir in page[: query.page_size]], next_key

    async def count(self, flt: FirFilter) -> int:
        counted = count_sql.count(flt, self._offset)
        if counted is None:
            return 0
        row = await self._db.fetch_one(*counted)
        return int(row[0]) if row else 0

    async def stats(self, flt: FirFilter, days: int, now: datetime) -> FirCounts:
        today = counts.local_day(now, self._offset)
        since = counts.local_midnight(today - timedelta(days=days - 1), self._offset)
        results: dict[str, list[tuple[str, int]]] = {"status": [], "station": [], "section": [], "day": []}
        for key, stmt, args in count_sql.stats(flt, since, self._offset):
            rows = await self._db.fetch_all(stmt, args)
            if key == "status":
                drafts, finalized = (int(n) for n in rows[0])
                results[key] = [(name, n) for name, n in (("DRAFT", drafts), ("FINALIZED", finalized)) if n]
            else:
                results[key] = [(str(k), int(n)) for k, n in rows]
        return FirCounts(
            total=sum(n for _, n in results["status"]),
            by_status=results["status"],
            by_station=results["station"],
            by_section=results["section"],
            by_day=results["day"],
        )

    async def events(self, fir_id: str, after_pk: int, limit: int) -> list[FirEvent]:
        rows = await self._db.fetch_all(sql.LIST_EVENTS, (fir_id, after_pk, limit))
        if not rows and after_pk == 0 and await self._db.fetch_one(sql.FIR_EXISTS, (fir_id,)) is None:
            raise FirNotFound("no FIR with this id")
        return [
            FirEvent(
                event_pk=pk,
                action=action,
                actor=actor,
                changed_fields=json.loads(changed),
                revision=revision,
                request_id=request_id,
                time=created.replace(tzinfo=UTC),
            )
            for pk, action, actor, changed, revision, request_id, created in rows
        ]

    # --- changes --------------------------------------------------------------
    async def modify(
        self,
        fir_id: str,
        mutate: Callable[[Fir], list[str]],
        *,
        action: str,
        change: Change,
    ) -> Fir:
        columns = sql.ALL_COLUMNS

        async def work(conn: Connection) -> Fir:
            row = await conn.fetch_one(sql.get_by_id(columns, for_update=True), (fir_id,))
            if row is None:
                raise FirNotFound("no FIR with this id")
            pk, fir = row_to_fir(columns, row)
            before_sections = [(s.act, s.section) for s in fir.legal_sections]
            before = counts.Counted.of(fir)
            changed = mutate(fir)
            if not changed:
                return fir
            now = self._clock()
            db_now = to_db_time(now)
            updated = await conn.execute(sql.update_fir(), (*_mutable_values(fir), db_now, pk, fir.revision))
            if updated != 1:  # cannot happen under the row lock; refuse rather than guess
                raise FirNotFound("the FIR changed while it was being edited")
            fir.revision += 1
            fir.update_time = now
            if [(s.act, s.section) for s in fir.legal_sections] != before_sections:
                await conn.execute(sql.DELETE_SECTIONS, (pk,))
                created = to_db_time(fir.create_time) if fir.create_time else db_now
                st = fir.station
                await conn.execute_many(
                    sql.INSERT_SECTIONS,
                    [(pk, s.act, s.section, created, db_now, st.code, st.district) for s in fir.legal_sections],
                )
            else:
                await conn.execute(sql.TOUCH_SECTIONS, (db_now, pk))
            await self._count(conn, before, fir)
            await self._audit(conn, pk, action, change, changed, fir.revision, db_now)
            await write_outbox(conn, pk, jobs_for_change(action, fir, changed), db_now)
            return fir

        modified = await self._db.run(work, transaction=True)
        self._on_commit()
        return modified

    async def _count(self, conn: Connection, before: counts.Counted | None, after: Fir) -> None:
        """Move the FIR's counts from what it was to what it is (same transaction)."""
        rows = count_sql.count_rows(counts.changes(before, counts.Counted.of(after), self._offset))
        await conn.execute_many(count_sql.ADD_COUNTS, rows)

    async def _audit(
        self,
        conn: Connection,
        pk: int,
        action: str,
        change: Change,
        fields: list[str],
        revision: int,
        when: datetime,
    ) -> None:
        await conn.execute(
            sql.INSERT_EVENT,
            (pk, action, change.actor[:128], json.dumps(fields), revision, change.request_id[:64], when),
        )


def _filled_fields(fir: Fir) -> set[str]:
    """Top-level fields a new FIR was created with (for the audit trail)."""
    filled = {"station", "complainant"}
    for name in ("summary", "narrative", "action_taken"):
        if getattr(fir, name):
            filled.add(name)
    for name in ("accused", "witnesses", "properties", "legal_sections"):
        if getattr(fir, name):
            filled.add(name)
    if fir.complaint.text:
        filled.add("complaint")
    if fir.investigating_officer.name:
        filled.add("investigating_officer")
    if fir.incident != Incident():
        filled.add("incident")
    return filled
