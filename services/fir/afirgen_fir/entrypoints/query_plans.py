"""Check the query plan of every FIR statement on a realistic volume.

    python -m afirgen_fir.entrypoints.query_plans --rows 100000

Creates (or reuses) the scratch schema ``afirgen_scratch_plans``, applies the
``fir`` migrations to it, seeds it up to ``--rows`` FIRs, EXPLAINs every
statement of :func:`catalog` and prints a Markdown
report. Exits 1 when a statement scans or sorts a large table without an
index. Connection settings come from ``AFIRGEN_MYSQL_*`` (the user needs
rights on ``afirgen_scratch%`` schemas, as the local stack grants).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymysql
from afirgen_runtime.db import Connection, Database, Statement
from afirgen_runtime.migrate import apply
from afirgen_runtime.query_plans import Plan, parse_plan, problems
from afirgen_runtime.settings import MySQLSettings, load

from afirgen_fir.adapters import legal_repository as legal
from afirgen_fir.adapters import mysql_jobs as jobs
from afirgen_fir.adapters import mysql_retention as retention
from afirgen_fir.adapters import sql
from afirgen_fir.domain.model import FirStatus
from afirgen_fir.domain.queries import FirFilter

SCRATCH = "afirgen_scratch_plans"
SECTIONS = ["303", "304", "305", "309", "318", "115", "117", "118", "351", "85", "78", "74", "329", "324", "137"]
COUNT = Statement("seed.count", "SELECT COUNT(*) FROM firs")
MAX_PK = Statement("seed.max_pk", "SELECT COALESCE(MAX(pk), 0) FROM firs")
ANALYZE = Statement("seed.analyze", "ANALYZE TABLE firs, fir_sections")


# Rows are generated inside MariaDB from its SEQUENCE engine (seq_1_to_N):
# 100k FIRs take seconds instead of minutes of client-side INSERTs.
SEED_FIRS = Statement(
    "seed.firs",
    "INSERT INTO firs (id, station_code, station_name, station_district, station_state, fir_year, fir_seq,"
    " fir_number, status, complainant, incident, accused, witnesses, properties, complaint_source,"
    " complaint_language, complaint_text, summary, narrative, legal_sections, action_taken, officer_name,"
    " officer_rank, generation, revision, created_at, updated_at)"
    " SELECT UUID(), CONCAT('PS-', LPAD(MOD(n, 200), 3, '0')), CONCAT('Station ', MOD(n, 200)),"
    " CONCAT('District ', MOD(n, 30)), 'State', YEAR(created), n,"
    " CONCAT('PS-', LPAD(MOD(n, 200), 3, '0'), '/', YEAR(created), '/', LPAD(n, 7, '0')),"
    " IF(MOD(n, 10) < 7, 1, 2), '{\"name\": \"Seeded\"}', '{}', '[]', '[]', '[]', 1, 'en', 'seeded complaint',"
    " 'seeded summary', 'seeded narrative',"
    ' CONCAT(\'[{"act": "BNS", "section": "\', ELT(1 + MOD(n, 15), %s), \'"}]\'),'
    " '', '', '', NULL, 1, created, created"
    " FROM (SELECT seq AS n, NOW(6) - INTERVAL MOD(seq * 7919, 63072000) SECOND AS created"
    " FROM seq_1_to_{rows} WHERE seq > %s) AS generated",
)
SEED_SECTIONS = Statement(
    "seed.sections",
    "INSERT INTO fir_sections (fir_pk, act, section, created_at)"
    " SELECT pk, 'BNS', ELT(1 + MOD(fir_seq, 15), %s), created_at FROM firs WHERE pk > %s"
    " UNION ALL SELECT pk, 'BNS', ELT(1 + MOD(fir_seq + 7, 15), %s), created_at"
    " FROM firs WHERE pk > %s AND MOD(fir_seq, 2) = 0",
)


def catalog() -> list[tuple[Statement, list[Any]]]:
    """Every statement shape the FIR repositories issue, with sample arguments.

    :func:`check` EXPLAINs each of these; a test fails when a ``Statement`` name in
    the FIR adapters is missing here (tests/integration/test_query_plans.py).
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    some_id = "00000000-0000-0000-0000-000000000000"
    station = FirFilter(station="PS-001")
    filters = [
        FirFilter(),
        station,
        FirFilter(status=FirStatus.DRAFT),
        FirFilter(station="PS-001", status=FirStatus.FINALIZED),
        FirFilter(district="District 3"),
        FirFilter(section="303"),
        FirFilter(time_bounds=((">=", now - timedelta(days=30)), ("<", now))),
    ]
    entries: list[tuple[Statement, list[Any]]] = [
        (sql.get_by_id(sql.ALL_COLUMNS), [some_id]),
        (sql.get_by_id(sql.select_columns(["fir_number", "status"])), [some_id]),
        (sql.get_by_id(sql.ALL_COLUMNS, for_update=True), [some_id]),
        (sql.get_by_pk(sql.ALL_COLUMNS), [1]),
        (sql.FIR_EXISTS, [some_id]),
        (sql.GET_IDEMPOTENCY, ["key"]),
        (sql.LIST_EVENTS, [some_id, 0, 100]),
        (sql.NEXT_SEQ, ["PS-001", 2026]),
        (sql.LAST_ID, []),
        (sql.DELETE_SECTIONS, [1]),
        (sql.BIND_IDEMPOTENCY, [1, "key"]),
        (sql.CLAIM_IDEMPOTENCY, ["key", "hash", now]),
        (sql.INSERT_SECTIONS, [1, "BNS", "303", now]),
        (sql.INSERT_EVENT, [1, "CREATED", "", "[]", 1, "", now]),
        (
            sql.INSERT_FIR,
            [
                some_id,
                "PS-001",
                "",
                "",
                "",
                2026,
                1,
                "PS-001/2026/00001",
                1,
                "{}",
                "{}",
                "[]",
                "[]",
                "[]",
                0,
                "en",
                "",
                "",
                "",
                "[]",
                "",
                "",
                "",
                None,
                None,
                1,
                now,
                now,
            ],
        ),
        (sql.update_fir(), [None] * len(sql.MUTABLE_COLUMNS) + [now, 1, 1]),
        (legal.SEARCH, ["stolen mobile phone", "stolen mobile phone", 8]),
        (legal.BY_SECTION, ["303", 10]),
        (legal.BY_ACT_SECTION, ["BNS", "303", 10]),
        (legal.COUNT, []),
        (legal.UPSERT, ["BNS", "303", "Theft", "", "", None, None, "", "", "seed", now]),
        *_jobs_catalog(now, some_id),
    ]
    for flt in filters:
        for order in ("create_time", "update_time"):
            for descending in (True, False):
                stmt, args = sql.list_page(sql.ALL_COLUMNS, flt, order, descending, (now, 10**9), 51)
                entries.append((stmt, args))
        entries.append(sql.count(flt))
        entries += [(stmt, args) for _, stmt, args in sql.stats(flt, now)] if flt.section is None else []
    return entries


def _jobs_catalog(now: datetime, some_id: str) -> list[tuple[Statement, list[Any]]]:
    """The statements of the outbox, documents and daily counts (``mysql_jobs``) and of the
    retention purges (``mysql_retention``)."""
    day = now.date()
    start = datetime.combine(day, datetime.min.time())
    end = start + timedelta(days=1)
    return [
        (jobs.INSERT_OUTBOX, [1, "fir.render_document", "{}", 5, "fir-outbox-key", now, now]),
        (jobs.PENDING_OUTBOX, [now, 50]),
        (jobs.OUTBOX_SENT, [now, some_id, 1]),
        (jobs.OUTBOX_FAILED, [now, "error", 1]),
        (jobs.GET_DOCUMENT, [some_id]),
        (jobs.DOCUMENT_REVISION, [some_id]),
        (jobs.SAVE_DOCUMENT, [some_id, 1, 1, "25504446", "0" * 64, now]),
        (jobs.DELETE_COUNTS, [day, "PS-001"]),
        (jobs.STATION_COUNTS, [day, now, "PS-001", start, end]),
        (jobs.SECTION_COUNTS, [day, now, "PS-001", start, end]),
        (retention.PURGE_IDEMPOTENCY, [now - timedelta(days=7), 1000]),
        (retention.PURGE_OUTBOX, [now - timedelta(days=7), 1000]),
    ]


async def seed(db: Database, rows: int) -> int:
    """Add seeded FIRs until the table holds ``rows``; returns how many were added."""
    existing_row = await db.fetch_one(COUNT)
    existing = int(existing_row[0]) if existing_row else 0
    if existing >= rows:
        return 0
    names = ", ".join(f"'{s}'" for s in SECTIONS)
    firs = Statement(SEED_FIRS.name, SEED_FIRS.sql.replace("{rows}", str(int(rows))).replace("%s)", names + ")", 1))
    sections = Statement(SEED_SECTIONS.name, SEED_SECTIONS.sql.replace("%s)", names + ")"))

    async def work(conn: Connection) -> None:
        row = await conn.fetch_one(MAX_PK)
        base = int(row[0]) if row else 0
        await conn.execute(firs, (existing,))
        await conn.execute(sections, (base, base))

    await db.run(work, transaction=True)
    await db.fetch_all(ANALYZE)
    return rows - existing


async def explain_all(db: Database, catalog: Iterable[tuple[Statement, Sequence[Any]]]) -> list[Plan]:
    """EXPLAIN every statement of a catalog (nothing is executed)."""

    async def work(conn: Connection) -> list[Plan]:
        plans = []
        for stmt, args in catalog:
            row = await conn.fetch_one(Statement("explain." + stmt.name, "EXPLAIN FORMAT=JSON " + stmt.sql), args)
            assert row is not None
            plans.append(parse_plan(stmt.name, stmt.sql, str(row[0])))
        return plans

    return await db.run(work)


def report(plans: Sequence[Plan]) -> str:
    """A Markdown table of every plan, with its problems."""
    lines = ["| statement | table: access (key, ~rows) | filesort | temporary | problems |", "|---|---|---|---|---|"]
    for plan in plans:
        tables = "; ".join(f"{t.table}: {t.access_type} ({t.key or '-'}, {t.rows})" for t in plan.tables)
        issues = "; ".join(problems(plan)) or "ok"
        lines.append(f"| {plan.name} | {tables} | {plan.filesort} | {plan.temporary} | {issues} |")
    return "\n".join(lines)


async def check(settings: MySQLSettings, rows: int) -> int:
    db = Database(dataclasses.replace(settings, database=SCRATCH, slow_query_seconds=3600))
    try:
        started = time.monotonic()
        added = await seed(db, rows)
        print(f"seeded {added} FIRs in {time.monotonic() - started:.1f}s ({rows} in the table)\n")
        plans = await explain_all(db, catalog())
    finally:
        await db.close()
    print(report(plans))
    bad = [plan for plan in plans if problems(plan)]
    print(f"\n{len(plans)} statements explained, {len(bad)} with problems")
    return 1 if bad else 0


def prepare_schema(settings: MySQLSettings) -> None:
    """Create the scratch schema and apply the fir migrations to it."""
    conn = pymysql.connect(
        host=settings.host, port=settings.port, user=settings.user, password=settings.password, autocommit=True
    )
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{SCRATCH}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()
    from afirgen_runtime.migrate import MIGRATIONS_ROOT

    apply(dataclasses.replace(settings, database=SCRATCH), SCRATCH, root=_migrations_alias(MIGRATIONS_ROOT))


def _migrations_alias(root: Path) -> Path:
    """yoyo reads ``<root>/<schema>``: alias the scratch schema to the fir migrations."""
    alias = Path(tempfile.gettempdir()) / "afirgen-plan-migrations"
    alias.mkdir(exist_ok=True)
    link = alias / SCRATCH
    if not link.exists():
        link.symlink_to(root / "fir")
    return alias


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="EXPLAIN every FIR statement on a seeded scratch schema.")
    parser.add_argument("--rows", type=int, default=100_000, help="FIRs to seed (default 100000)")
    args = parser.parse_args(argv)
    settings = load(MySQLSettings, prefix="AFIRGEN_MYSQL")
    prepare_schema(settings)
    return asyncio.run(check(settings, args.rows))


if __name__ == "__main__":
    sys.exit(main())
