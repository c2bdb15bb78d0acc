"""Database timing: every named SQL statement of the FIR service against the seeded
large table, and keyset against OFFSET pagination at deep pages.

Times are MariaDB's own (``SHOW PROFILES``); the time the client saw, which adds
sending and decoding the rows in Python, is kept beside it. Statements come
from the service's own modules (``afirgen_fir.adapters.sql`` and
friends, built by the same functions the repository uses), with arguments taken
from the seeded data. Writes run inside a transaction that is rolled back, so
the table stays as seeded. Statements of the query-plan check's catalog
(``afirgen_fir.entrypoints.query_plans.catalog``) that are not timed below are
timed with its sample arguments, and any named statement left over is listed in
the report as not timed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pymysql

from bench.results import Measurement
from bench.scenarios import Context

PAGE = 50
BUDGET_S = 8.0
"""Time spent on one statement before it stops repeating (at least 3 samples)."""


def _server_ms(cur: Any, sql: str) -> float | None:
    """Server-side duration of the last statement (``SHOW PROFILES``), if it was ``sql``."""
    cur.execute("SHOW PROFILES")
    rows = cur.fetchall()
    if rows and str(rows[-1][2]).split()[:2] == sql.split()[:2]:
        return float(rows[-1][1]) * 1000
    return None


def _time(
    cur: Any, sql: str, args: Sequence[Any] | None, repeats: int, *, rollback: Any = None
) -> tuple[list[float], list[float]]:
    """Server and client milliseconds of ``repeats`` executions (after one untimed warm-up).

    Client time includes sending the rows and PyMySQL decoding them (the fir
    service's aiomysql pays the same); server time is MariaDB's own (profiling),
    the figure that shows what an index does."""
    client: list[float] = []
    server: list[float] = []
    budget = time.perf_counter() + BUDGET_S
    for i in range(repeats + 1):
        if len(client) >= 3 and time.perf_counter() > budget:
            break  # slow statements (full-table aggregates, deep OFFSETs) get fewer samples
        if rollback is not None:
            rollback.begin()
        started = time.perf_counter()
        cur.execute(sql, args)
        cur.fetchall()
        elapsed = (time.perf_counter() - started) * 1000
        on_server = _server_ms(cur, sql)
        if rollback is not None:
            rollback.rollback()
        if i:
            client.append(elapsed)
            server.append(elapsed if on_server is None else on_server)
    return server, client


def _measure(key: str, label: str, timed: tuple[list[float], list[float]], **extra: Any) -> Measurement:
    server, client = timed
    ordered = sorted(server)
    return Measurement(
        scenario="database",
        key=key,
        label=label,
        tool="mariadb",
        concurrency=1,
        count=len(ordered),
        p50_ms=statistics.median(ordered),
        p90_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))],
        p99_ms=ordered[-1],
        max_ms=ordered[-1],
        extra={**extra, "client_p50_ms": statistics.median(client)},
    )


def _statements(ctx: Context, cur: Any) -> list[tuple[str, str, Any, list[Any], bool]]:
    """(key, label, Statement, args, is_write) with arguments from the seeded table."""
    from afirgen_fir.adapters import legal_repository as legal
    from afirgen_fir.adapters import mysql_jobs as jobs
    from afirgen_fir.adapters import sql
    from afirgen_fir.domain.model import FirStatus
    from afirgen_fir.domain.queries import FirFilter

    cur.execute(
        "SELECT pk, id, created_at FROM firs WHERE station_code LIKE 'BN-%%' ORDER BY pk LIMIT 1 OFFSET %s",
        (ctx.profile.seed_rows // 2,),
    )
    pk, fir_id, created = cur.fetchone()
    hot = (ctx.hot.drafts or [fir_id])[0]
    now = datetime.now(UTC).replace(tzinfo=None)
    mask = sql.select_columns(["fir_number", "status"])
    cur.execute(f"SELECT {', '.join(sql.MUTABLE_COLUMNS)}, revision FROM firs WHERE pk = %s", (pk,))  # noqa: S608 - constant column list
    *mutable, revision = cur.fetchone()
    filters = {
        "all": FirFilter(),
        "station": FirFilter(station="BN-007"),
        "status": FirFilter(status=FirStatus.FINALIZED),
        "station_status": FirFilter(station="BN-007", status=FirStatus.DRAFT),
        "district": FirFilter(district="Bench District 3"),
        "section": FirFilter(section="303"),
        "last_30_days": FirFilter(time_bounds=((">=", now - timedelta(days=30)),)),
    }
    out: list[tuple[str, str, Any, list[Any], bool]] = [
        ("get", "whole FIR by id", sql.get_by_id(sql.ALL_COLUMNS), [fir_id], False),
        ("get.mask", "read mask fir_number,status", sql.get_by_id(mask), [fir_id], False),
        ("get_by_pk", "by primary key", sql.get_by_pk(sql.ALL_COLUMNS), [pk], False),
        ("exists", "", sql.FIR_EXISTS, [fir_id], False),
        ("idempotency_get", "", sql.GET_IDEMPOTENCY, ["bench-missing-key"], False),
        ("events_list", "hot FIR", sql.LIST_EVENTS, [hot, 0, 100], False),
        ("counter_next", "", sql.NEXT_SEQ, ["BN-001", 2026], True),
        ("get_for_update", "", sql.get_by_id(sql.ALL_COLUMNS, for_update=True), [fir_id], True),
        ("update", "", sql.update_fir(), [*mutable, now, pk, revision], True),
        ("sections_delete", "", sql.DELETE_SECTIONS, [pk], True),
        ("sections_insert", "", sql.INSERT_SECTIONS, [pk, "BNS", "999", now], True),
        ("event_insert", "", sql.INSERT_EVENT, [pk, "UPDATED", "bench", "[]", revision + 1, "", now], True),
        ("idempotency_claim", "", sql.CLAIM_IDEMPOTENCY, ["bench-key", "0" * 64, now], True),
        ("outbox_pending", "", jobs.PENDING_OUTBOX, [now, 50], False),
        ("outbox_insert", "", jobs.INSERT_OUTBOX, [pk, "fir.render_document", "{}", 5, "bench-outbox", now, now], True),
        ("outbox_sent", "", jobs.OUTBOX_SENT, [now, None, 0], True),
        ("outbox_failed", "", jobs.OUTBOX_FAILED, [now, "bench", 0], True),
        ("document_get", "", jobs.GET_DOCUMENT, [hot], False),
        ("document_revision", "", jobs.DOCUMENT_REVISION, [hot], False),
        ("document_save", "", jobs.SAVE_DOCUMENT, [fir_id, 1, 1, "25504446", "0" * 64, now], True),
        ("daily_counts_delete", "", jobs.DELETE_COUNTS, [created.date(), "BN-001"], True),
        (
            "daily_counts_station",
            "one station-day",
            jobs.STATION_COUNTS,
            [created.date(), now, "BN-001", created.date(), created.date() + timedelta(days=1)],
            True,
        ),
        (
            "daily_counts_sections",
            "one station-day",
            jobs.SECTION_COUNTS,
            [created.date(), now, "BN-001", created.date(), created.date() + timedelta(days=1)],
            True,
        ),
        ("legal.search", "stolen mobile phone", legal.SEARCH, ["stolen mobile phone", "stolen mobile phone", 8], False),
    ]
    for name, flt in filters.items():
        stmt, args = sql.list_page(sql.ALL_COLUMNS, flt, "create_time", True, None, PAGE + 1)
        out.append((f"list.{name}", f"first page, {name}", stmt, args, False))
        stmt, args = sql.count(flt)
        out.append((f"count.{name}", name, stmt, args, False))
        if flt.section is None:
            for part, stmt, args in sql.stats(flt, now - timedelta(days=29)):
                out.append((f"stats_{part}.{name}", name, stmt, args, False))
    return out


def _catalog_extras(timed: set[str]) -> list[tuple[Any, list[Any]]]:
    """Catalog statements whose name was not timed with seeded arguments."""
    from afirgen_fir.entrypoints.query_plans import catalog

    return [(stmt, list(args)) for stmt, args in catalog() if stmt.name not in timed]


def _named_statements() -> set[str]:
    """Every Statement name defined at module level in the FIR adapters."""
    import importlib

    from afirgen_runtime.db import Statement

    names: set[str] = set()
    for module in ("sql", "mysql_jobs", "legal_repository"):
        mod = importlib.import_module(f"afirgen_fir.adapters.{module}")
        names |= {v.name for v in vars(mod).values() if isinstance(v, Statement)}
    return (
        names
        | {"fir.get", "fir.get_for_update", "fir.get_by_pk", "fir.update", "fir.list", "fir.count"}
        | {f"fir.stats_by_{p}" for p in ("status", "station", "section", "day")}
    )


def pagination(ctx: Context, cur: Any) -> None:
    """Keyset vs OFFSET at each deep page of the profile (newest first, page size 50)."""
    from afirgen_fir.adapters import sql
    from afirgen_fir.domain.queries import FirFilter

    cur.execute("SELECT COUNT(*) FROM firs")
    (rows,) = cur.fetchone()
    cols = ", ".join(sql.ALL_COLUMNS)
    f = ctx.results.figures
    for page in ctx.profile.deep_pages:
        offset = (page - 1) * PAGE
        if offset + PAGE > rows:
            ctx.results.notes.append(f"pagination: page {page} is past the {rows} rows; not timed")
            continue
        repeats = ctx.profile.db_repeats if page < 1000 else max(3, ctx.profile.db_repeats // 3)
        off_sql = f"SELECT {cols} FROM firs ORDER BY created_at DESC, pk DESC LIMIT %s OFFSET %s"  # noqa: S608 - constant column list
        off = _measure(
            f"db.page.offset.p{page}", f"OFFSET page {page}", _time(cur, off_sql, (PAGE + 1, offset), repeats)
        )
        after = None
        if offset:
            cur.execute(
                "SELECT created_at, pk FROM firs ORDER BY created_at DESC, pk DESC LIMIT 1 OFFSET %s", (offset - 1,)
            )
            after = tuple(cur.fetchone())
        stmt, args = sql.list_page(sql.ALL_COLUMNS, FirFilter(), "create_time", True, after, PAGE + 1)
        key = _measure(
            f"db.page.keyset.p{page}", f"keyset page {page}", _time(cur, stmt.sql, args, ctx.profile.db_repeats)
        )
        ctx.results.add(off)
        ctx.results.add(key)
        f[f"db.page.offset_over_keyset.p{page}"] = off.p50_ms / max(key.p50_ms, 1e-3)
        f[f"db.page.offset_over_keyset_client.p{page}"] = off.extra["client_p50_ms"] / max(
            key.extra["client_p50_ms"], 1e-3
        )
        ctx.log(
            f"  page {page}: OFFSET {off.p50_ms:.2f} ms, keyset {key.p50_ms:.2f} ms on the server"
            f" ({off.extra['client_p50_ms']:.2f} / {key.extra['client_p50_ms']:.2f} ms seen by the client)"
        )
    first = ctx.results.find("db.page.keyset.p1")
    for page in ctx.profile.deep_pages:
        deep_page = ctx.results.find(f"db.page.keyset.p{page}")
        if first and deep_page and page > 1:
            f[f"db.page.keyset_over_page1.p{page}"] = deep_page.p50_ms / max(first.p50_ms, 1e-3)
    deepest = max((p for p in ctx.profile.deep_pages if ctx.results.find(f"db.page.keyset.p{p}")), default=1)
    deep = ctx.results.find(f"db.page.keyset.p{deepest}")
    if first and deep:
        f["db.page.deepest"] = float(deepest)
        f["db.page.keyset_deepest_over_page1"] = deep.p50_ms / max(first.p50_ms, 1e-3)
        f["db.page.offset_over_keyset.deepest"] = f[f"db.page.offset_over_keyset.p{deepest}"]
    f["db.rows"] = float(rows)


def run(ctx: Context) -> None:
    """Time every named statement, then pagination."""
    conn = pymysql.connect(**ctx.target.mysql_args())  # type: ignore[arg-type]
    try:
        with conn.cursor() as cur:
            cur.execute("SET profiling = 1, profiling_history_size = 100")
            timed: set[str] = set()
            for key, label, stmt, args, write in _statements(ctx, cur):
                samples = _time(cur, stmt.sql, args, ctx.profile.db_repeats, rollback=conn if write else None)
                ctx.results.add(_measure(f"db.{key}", f"{stmt.name} {label}".strip(), samples, statement=stmt.name))
                timed.add(stmt.name)
            for stmt, args in _catalog_extras(timed):
                try:
                    samples = _time(cur, stmt.sql, args, ctx.profile.db_repeats, rollback=conn)
                except pymysql.MySQLError as exc:
                    conn.rollback()
                    ctx.results.notes.append(f"database: {stmt.name} (catalog sample arguments) failed: {exc}")
                    continue
                ctx.results.add(
                    _measure(f"db.catalog.{stmt.name}", f"{stmt.name} (catalog args)", samples, statement=stmt.name)
                )
                timed.add(stmt.name)
            missing = sorted(_named_statements() - timed)
            if missing:
                ctx.results.notes.append("database: named statements not timed: " + ", ".join(missing))
            ctx.log(f"  {len(timed)} named statements timed")
            pagination(ctx, cur)
    finally:
        conn.close()
