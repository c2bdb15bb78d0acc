"""Database timing: the plan check and the time of every statement shape of the FIR
service against the seeded large table, and keyset against OFFSET pagination at deep pages.

The shapes are the query-plan check's catalog (``afirgen_fir.adapters.statement_catalog``,
built by the functions the repositories use: every filter scope, status, order and
section combination, totals, statistics, writes, jobs), with arguments taken from the
seeded data. Each is EXPLAINed (``db.plans.problems``: full scans and unindexed sorts) and
timed (``db.stmt.<label>``, gated per statement in ``bench/sla.toml``). Times are MariaDB's
own (``SHOW PROFILES``); the time the client saw, which adds sending and decoding the rows
in Python, is kept beside it. Writes run inside a transaction that is rolled back, so the
table stays as seeded. Keyset pages are timed in rounds (every page once a round), so their
ratio to page 1 compares samples taken side by side.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pymysql

from bench.results import Measurement
from bench.scenarios import Context

PAGE = 50
BUDGET_S = 8.0
"""Time spent on one statement before it stops repeating (at least 3 samples)."""
KEYSET_ROUNDS = 3
"""Keyset pages are timed this many times the profile's ``db_repeats`` (each takes about a
millisecond, and their ratio to page 1 is gated)."""


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
        on_server, elapsed = _once(cur, sql, args)
        if rollback is not None:
            rollback.rollback()
        if i:
            client.append(elapsed)
            server.append(on_server)
    return server, client


def _once(cur: Any, sql: str, args: Sequence[Any] | None) -> tuple[float, float]:
    """Server and client milliseconds of one execution (the client's when profiling has none)."""
    started = time.perf_counter()
    cur.execute(sql, args)
    cur.fetchall()
    elapsed = (time.perf_counter() - started) * 1000
    on_server = _server_ms(cur, sql)
    return (elapsed if on_server is None else on_server), elapsed


def _time_interleaved(
    cur: Any, statements: dict[int, tuple[str, Sequence[Any]]], repeats: int
) -> dict[int, tuple[list[float], list[float]]]:
    """Server and client milliseconds of ``repeats`` executions of each statement, taken in
    rounds (each round runs every statement once, starting one further along each time) after
    one untimed round: a drift of the machine's speed lands on all of them alike, so their
    ratios compare like with like."""
    keys = list(statements)
    timed: dict[int, tuple[list[float], list[float]]] = {key: ([], []) for key in keys}
    for i in range(repeats + 1):
        shift = i % len(keys)
        for key in keys[shift:] + keys[:shift]:
            on_server, elapsed = _once(cur, *statements[key])
            if i:
                timed[key][0].append(on_server)
                timed[key][1].append(elapsed)
    return timed


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


def _samples(ctx: Context, cur: Any) -> Any:
    """Catalog arguments from the seeded table: an FIR in its middle, its station, district and a
    section it cites (so every filter of the catalog matches rows), its time as the keyset."""
    from afirgen_fir.adapters.statement_catalog import Samples
    from afirgen_fir.settings import FirSettings

    cur.execute(
        "SELECT f.pk, f.id, f.revision, f.created_at, f.station_code, f.station_district, s.section"
        " FROM firs f JOIN fir_sections s ON s.fir_pk = f.pk WHERE f.station_code LIKE 'BN-%%'"
        " ORDER BY f.pk LIMIT 1 OFFSET %s",
        (ctx.profile.seed_rows // 2,),
    )
    pk, fir_id, revision, created, station, district, section = cur.fetchone()
    return Samples(
        fir_id=fir_id,
        fir_pk=pk,
        revision=revision,
        station=station,
        district=district,
        section=section,
        keyset=(created, pk),
        utc_offset=timedelta(minutes=FirSettings.numbering_utc_offset_minutes),
    )


def _is_write(sql: str) -> bool:
    return sql.split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE") or sql.rstrip().endswith("FOR UPDATE")


def _plan_check(ctx: Context, cur: Any, catalog: list[tuple[str, Any, list[Any]]]) -> None:
    """EXPLAIN every statement shape on the seeded table (the plan check at the profile's volume)."""
    from afirgen_fir.adapters.statement_catalog import WHOLE_TABLE
    from afirgen_runtime.query_plans import parse_plan, problems

    bad: list[str] = []
    for label, stmt, args in catalog:
        cur.execute("EXPLAIN FORMAT=JSON " + stmt.sql, args)
        plan = parse_plan(stmt.name, stmt.sql, str(cur.fetchone()[0]))
        found = problems(plan) if stmt.name not in WHOLE_TABLE else []
        if found:
            bad.append(f"{label}: {'; '.join(found)}")
    ctx.results.figures["db.plans.explained"] = float(len(catalog))
    ctx.results.figures["db.plans.problems"] = float(len(bad))
    for line in bad:
        ctx.note(f"database: plan problem: {line}")
    ctx.log(f"  {len(catalog)} statement shapes explained, {len(bad)} with plan problems")


def statements(ctx: Context, conn: Any, cur: Any) -> None:
    """Time every statement shape of the catalog (writes rolled back): ``db.stmt.<label>``.

    The count repair's statements run as one unit (``db.stmt.counts_repair``), as the job runs
    them; the offline full recount reads every FIR on purpose and is only explained."""
    from afirgen_fir.adapters.statement_catalog import labelled

    catalog = labelled(_samples(ctx, cur))
    _plan_check(ctx, cur, catalog)
    repair = [(stmt, args) for label, stmt, args in catalog if label.startswith("counts_repair.")]
    for label, stmt, args in catalog:
        if label.startswith(("counts_repair.", "counts_rebuild_all.")):
            continue
        write = _is_write(stmt.sql)
        samples = _time(cur, stmt.sql, args, ctx.profile.db_repeats, rollback=conn if write else None)
        ctx.results.add(_measure(f"db.stmt.{label}", f"{label} ({stmt.name})", samples, statement=stmt.name))
    if repair:
        ctx.results.add(
            _measure(
                "db.stmt.counts_repair",
                "counts_repair (fir.rollup_stats, one station-day)",
                _time_together(conn, cur, repair, ctx.profile.db_repeats),
            )
        )
    timed = [m for m in ctx.results.measurements if m.key.startswith("db.stmt.")]
    slowest = max(timed, key=lambda m: m.p50_ms)
    ctx.results.figures["db.stmt.count"] = float(len(timed))
    ctx.results.figures["db.stmt.slowest_p50_ms"] = slowest.p50_ms
    ctx.log(f"  {len(timed)} statement shapes timed; slowest {slowest.key} {slowest.p50_ms:.2f} ms (p50)")


def _time_together(
    conn: Any, cur: Any, statements: list[tuple[Any, list[Any]]], repeats: int
) -> tuple[list[float], list[float]]:
    """Client milliseconds of running ``statements`` in one transaction, rolled back."""
    times: list[float] = []
    for i in range(repeats + 1):
        conn.begin()
        started = time.perf_counter()
        for stmt, args in statements:
            cur.execute(stmt.sql, args)
        elapsed = (time.perf_counter() - started) * 1000
        conn.rollback()
        if i:
            times.append(elapsed)
    return times, times


def pagination(ctx: Context, cur: Any) -> None:
    """Keyset vs OFFSET at each deep page of the profile (newest first, page size 50)."""
    from afirgen_fir.adapters import sql
    from afirgen_fir.domain.queries import FirFilter

    cur.execute("SELECT COUNT(*) FROM firs")
    (rows,) = cur.fetchone()
    cols = ", ".join(sql.ALL_COLUMNS)
    f = ctx.results.figures
    offsets: dict[int, Measurement] = {}
    keysets: dict[int, tuple[str, Sequence[Any]]] = {}
    for page in ctx.profile.deep_pages:
        offset = (page - 1) * PAGE
        if offset + PAGE > rows:
            ctx.results.notes.append(f"pagination: page {page} is past the {rows} rows; not timed")
            continue
        repeats = ctx.profile.db_repeats if page < 1000 else max(3, ctx.profile.db_repeats // 3)
        off_sql = f"SELECT {cols} FROM firs ORDER BY created_at DESC, pk DESC LIMIT %s OFFSET %s"  # noqa: S608 - constant column list
        offsets[page] = _measure(
            f"db.page.offset.p{page}", f"OFFSET page {page}", _time(cur, off_sql, (PAGE + 1, offset), repeats)
        )
        after = None
        if offset:
            cur.execute(
                "SELECT created_at, pk FROM firs ORDER BY created_at DESC, pk DESC LIMIT 1 OFFSET %s", (offset - 1,)
            )
            after = tuple(cur.fetchone())
        stmt, args = sql.list_page(sql.ALL_COLUMNS, FirFilter(), "create_time", True, after, PAGE + 1)
        keysets[page] = (stmt.sql, args)
    # Keyset pages are timed together, round after round: sub-millisecond statements whose ratio
    # to page 1 is gated would otherwise move with whatever the machine did between them.
    keyset_timed = _time_interleaved(cur, keysets, KEYSET_ROUNDS * ctx.profile.db_repeats) if keysets else {}
    for page, off in offsets.items():
        key = _measure(f"db.page.keyset.p{page}", f"keyset page {page}", keyset_timed[page])
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
    """The plan check and the time of every statement shape, then pagination."""
    conn = pymysql.connect(**ctx.target.mysql_args())  # type: ignore[arg-type]
    try:
        with conn.cursor() as cur:
            cur.execute("SET profiling = 1, profiling_history_size = 100")
            statements(ctx, conn, cur)
            pagination(ctx, cur)
    finally:
        conn.close()
