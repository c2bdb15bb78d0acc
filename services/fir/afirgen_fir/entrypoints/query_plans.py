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
from datetime import timedelta
from pathlib import Path
from typing import Any

import pymysql
from afirgen_runtime.db import Connection, Database, Statement
from afirgen_runtime.migrate import apply
from afirgen_runtime.query_plans import Plan, parse_plan, problems
from afirgen_runtime.settings import MySQLSettings, load

from afirgen_fir.adapters import count_sql
from afirgen_fir.adapters.statement_catalog import WHOLE_TABLE, labelled
from afirgen_fir.settings import FirSettings

SCRATCH = "afirgen_scratch_plans"
SECTIONS = ["303", "304", "305", "309", "318", "115", "117", "118", "351", "85", "78", "74", "329", "324", "137"]
COUNT = Statement("seed.count", "SELECT COUNT(*) FROM firs")
MAX_PK = Statement("seed.max_pk", "SELECT COALESCE(MAX(pk), 0) FROM firs")
ANALYZE = Statement("seed.analyze", "ANALYZE TABLE firs, fir_sections, fir_counts")


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
    "INSERT INTO fir_sections (fir_pk, act, section, created_at, updated_at, station_code, station_district)"
    " SELECT pk, 'BNS', ELT(1 + MOD(fir_seq, 15), %s), created_at, updated_at, station_code, station_district"
    " FROM firs WHERE pk > %s"
    " UNION ALL SELECT pk, 'BNS', ELT(1 + MOD(fir_seq + 7, 15), %s), created_at, updated_at, station_code,"
    " station_district FROM firs WHERE pk > %s AND MOD(fir_seq, 2) = 0",
)


def catalog() -> list[tuple[Statement, list[Any]]]:
    """Every statement shape the FIR repositories issue, with sample arguments
    (:func:`afirgen_fir.adapters.statement_catalog.labelled` on this check's seeded schema).

    :func:`check` EXPLAINs each of these; a test fails when a ``Statement`` name in
    the FIR adapters is missing here (tests/integration/test_query_plans.py).
    """
    return [(stmt, args) for _, stmt, args in labelled()]


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
    # The seed writes around the repository: count what it wrote (the plans read the counts).
    await count_sql.recount(db, timedelta(minutes=FirSettings.numbering_utc_offset_minutes))
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
    bad = [plan for plan in plans if problems(plan) and plan.name not in WHOLE_TABLE]
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

    # yoyo reads ``<root>/<schema>``: alias the scratch schema to this checkout's fir
    # migrations, in a directory of this call's own (a shared one may point at another checkout).
    with tempfile.TemporaryDirectory(prefix="afirgen-plan-migrations-") as alias:
        (Path(alias) / SCRATCH).symlink_to(MIGRATIONS_ROOT / "fir")
        apply(dataclasses.replace(settings, database=SCRATCH), SCRATCH, root=Path(alias))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="EXPLAIN every FIR statement on a seeded scratch schema.")
    parser.add_argument("--rows", type=int, default=100_000, help="FIRs to seed (default 100000)")
    args = parser.parse_args(argv)
    settings = load(MySQLSettings, prefix="AFIRGEN_MYSQL")
    prepare_schema(settings)
    return asyncio.run(check(settings, args.rows))


if __name__ == "__main__":
    sys.exit(main())
