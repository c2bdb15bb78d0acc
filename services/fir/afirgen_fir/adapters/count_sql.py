"""The statements of ``fir_counts`` (``migrations/fir/0005_fir_counts.sql``): the
changes every FIR write makes to it, the totals and statistics read from it, and
its rebuild from ``firs``.

A read covers a range of time with the pieces of :func:`afirgen_fir.domain.counts.split`:
one ``SELECT`` per span of count rows and per partial day of ``firs``, each giving
``(k, d, f)`` (group key, drafts, finalized), summed by an outer query.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from afirgen_runtime.db import Connection, Database, Statement

from afirgen_fir.adapters import sql
from afirgen_fir.domain import counts
from afirgen_fir.domain.model import FirStatus
from afirgen_fir.domain.queries import FirFilter

ADD_COUNTS = Statement(
    "fir.counts_add",
    "INSERT INTO fir_counts (grain, kind, period, act, section, station_code, station_district, drafts, finalized)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON DUPLICATE KEY UPDATE drafts = drafts + VALUES(drafts), finalized = finalized + VALUES(finalized)",
)
TOP = 100
"""Stations and sections a statistics answer lists, largest first."""


def count_rows(changes: list[tuple[counts.CountKey, int, int]]) -> list[tuple[Any, ...]]:
    """:data:`ADD_COUNTS` arguments for :func:`afirgen_fir.domain.counts.changes`."""
    return [
        (k.grain, k.kind, k.period, k.act, k.section, k.station, k.district, drafts, finalized)
        for k, drafts, finalized in changes
    ]


# --- reads -----------------------------------------------------------------------------


def _span_piece(span: counts.Span, kind: int, key: str, flt: FirFilter) -> tuple[str, list[Any]]:
    """One grain's count rows of ``kind`` in the span."""
    drafts = "drafts" if flt.status in (None, FirStatus.DRAFT) else "0"
    finalized = "finalized" if flt.status in (None, FirStatus.FINALIZED) else "0"
    conds, args = sql.scope(flt)
    conds += ["grain = %s", "kind = %s"]
    args += [span.grain, kind]
    if span.first is not None:
        conds.append("period >= %s")
        args.append(span.first)
    if span.stop is not None:
        conds.append("period < %s")
        args.append(span.stop)
    if kind == counts.ANY_ACT:
        conds.append("section = %s")
        args.append(flt.section)
    where = " AND ".join(conds)
    return f"SELECT {key} AS k, {drafts} AS d, {finalized} AS f FROM fir_counts WHERE {where}", args


def _firs_conditions(flt: FirFilter, edge: counts.Edge) -> tuple[list[str], list[Any]]:
    """``flt`` on ``firs f`` within the edge's time (its own time bounds are the plan's)."""
    conds, args = sql.where(FirFilter(station=flt.station, status=flt.status, district=flt.district), "f.")
    return ["f.created_at >= %s", "f.created_at < %s", *conds], [edge.start, edge.end, *args]


def _edge_piece(edge: counts.Edge, kind: int, key: str, flt: FirFilter) -> tuple[str, list[Any]]:
    """The FIRs of one partial day, read from ``firs`` (through its created_at indexes)."""
    conds, args = _firs_conditions(flt, edge)
    where = " AND ".join(conds)
    if kind == counts.ANY_ACT:  # each FIR once, whatever acts cite the number
        return (
            f"SELECT '' AS k, SUM(x.status = 1) AS d, SUM(x.status = 2) AS f FROM (SELECT DISTINCT f.pk, f.status"
            f" FROM firs f JOIN fir_sections s ON s.fir_pk = f.pk AND s.section = %s WHERE {where}) AS x",
            [flt.section, *args],
        )
    source = "firs f JOIN fir_sections s ON s.fir_pk = f.pk" if kind == counts.BY_ACT else "firs f"
    group = "" if key == "''" else " GROUP BY k"
    sql = f"SELECT {key} AS k, SUM(f.status = 1) AS d, SUM(f.status = 2) AS f FROM {source} WHERE {where}{group}"
    return sql, args


def _pieces(flt: FirFilter, plan: counts.Plan, kind: int, span_key: str, edge_key: str) -> tuple[str, list[Any]]:
    """``(k, d, f)`` rows of every piece of ``plan``, as one derived table."""
    parts = [_span_piece(span, kind, span_key, flt) for span in plan.spans]
    for edge in plan.edges:
        key = edge_key.replace("{day}", f"'{edge.day.isoformat()}'")
        parts.append(_edge_piece(edge, kind, key, flt))
    sql = " UNION ALL ".join(p for p, _ in parts)
    return f"({sql}) AS p", [a for _, args in parts for a in args]


def plan_of(flt: FirFilter, utc_offset: timedelta) -> counts.Plan:
    """The pieces that cover ``flt``'s time bounds (all time when it has none)."""
    window = counts.bounds(flt.time_bounds)
    if window is None:
        return counts.Plan((), ())
    return counts.split(*window, utc_offset)


def count(flt: FirFilter, utc_offset: timedelta) -> tuple[Statement, list[Any]] | None:
    """FIRs matching ``flt`` (``None``: nothing can match)."""
    plan = plan_of(flt, utc_offset)
    if plan.empty:
        return None
    kind = counts.ANY_ACT if flt.section is not None else counts.TOTAL
    table, args = _pieces(flt, plan, kind, "''", "''")
    return Statement("fir.count", f"SELECT COALESCE(SUM(d + f), 0) FROM {table}"), args


def _top(table: str) -> str:
    return f"SELECT k, SUM(d + f) AS n FROM {table} GROUP BY k HAVING n > 0 ORDER BY n DESC, k LIMIT {TOP}"


def stats(flt: FirFilter, since: datetime, utc_offset: timedelta) -> list[tuple[str, Statement, list[Any]]]:
    """The statements of GetFirStats; ``by_day`` starts at ``since`` (a local midnight, UTC)."""
    plan = plan_of(flt, utc_offset)
    out: list[tuple[str, Statement, list[Any]]] = []
    if plan.empty:
        return out
    table, args = _pieces(flt, plan, counts.TOTAL, "''", "''")
    out.append(
        (
            "status",
            Statement("fir.stats_by_status", f"SELECT COALESCE(SUM(d), 0), COALESCE(SUM(f), 0) FROM {table}"),
            args,
        )
    )
    table, args = _pieces(flt, plan, counts.TOTAL, "station_code", "f.station_code")
    out.append(("station", Statement("fir.stats_by_station", _top(table)), args))
    table, args = _pieces(flt, plan, counts.BY_ACT, "CONCAT(act, ' ', section)", "CONCAT(s.act, ' ', s.section)")
    out.append(("section", Statement("fir.stats_by_section", _top(table)), args))
    window = counts.bounds(flt.time_bounds)
    assert window is not None
    lo = max(window[0], since) if window[0] is not None else since
    days = counts.split(lo, window[1], utc_offset, coarsest=counts.DAY)
    if not days.empty:
        # Without a station, a district's day is one row whatever its number of stations.
        kind = counts.TOTAL if flt.station is not None else counts.DISTRICT_DAY
        table, args = _pieces(flt, days, kind, "CAST(period AS CHAR)", "{day}")
        sql = f"SELECT k, SUM(d + f) AS n FROM {table} GROUP BY k HAVING n > 0 ORDER BY k"
        out.append(("day", Statement("fir.stats_by_day", sql), args))
    return out


# --- rebuild from firs -----------------------------------------------------------------

_INSERT = (
    "INSERT INTO fir_counts (grain, kind, period, act, section, station_code, station_district, drafts, finalized)"
)
_LOCAL_DAY = "DATE({t}.created_at + INTERVAL %s MINUTE)"


def rebuild(
    utc_offset: timedelta, station: str | None = None, day: date | None = None
) -> list[tuple[Statement, list[Any]]]:
    """Statements that recompute the counts from ``firs``: all of them, or those of one
    station and local day (and the month and year rows that hold it). Run them in one
    transaction: the range reads lock the FIRs they count, so writes wait for it."""
    minutes = int(utc_offset.total_seconds() // 60)
    scoped = station is not None and day is not None
    f_day, x_day = _LOCAL_DAY.format(t="f"), _LOCAL_DAY.format(t="x")
    scope, scope_args, district_scope, district_args = "", [], "", []
    if scoped:
        assert station is not None and day is not None
        start = counts.local_midnight(day, utc_offset).replace(tzinfo=None)
        scope = " AND f.station_code = %s AND f.created_at >= %s AND f.created_at < %s"
        scope_args = [station, start, start + timedelta(days=1)]
        # The day of each district the station's FIRs of the day are in, all its stations.
        district_scope = (
            " AND f.created_at >= %s AND f.created_at < %s AND f.station_district IN (SELECT DISTINCT"
            " d.station_district FROM firs d WHERE d.station_code = %s AND d.created_at >= %s AND d.created_at < %s)"
        )
        district_args = [start, start + timedelta(days=1), station, start, start + timedelta(days=1)]
    # The full rebuild reads every FIR on purpose; a repair reads one station's day.
    verb = "repair" if scoped else "rebuild"
    day_rows = [
        (
            Statement(
                f"fir.counts_{verb}_total",
                f"{_INSERT} SELECT 'D', 0, {f_day}, '', '', f.station_code, f.station_district,"
                f" SUM(f.status = 1), SUM(f.status = 2) FROM firs f WHERE 1 = 1{scope}"
                f" GROUP BY {f_day}, f.station_code, f.station_district",
            ),
            [minutes, *scope_args, minutes],
        ),
        (
            Statement(
                f"fir.counts_{verb}_by_act",
                f"{_INSERT} SELECT 'D', 1, {f_day}, s.act, s.section, f.station_code, f.station_district,"
                " SUM(f.status = 1), SUM(f.status = 2) FROM firs f JOIN fir_sections s ON s.fir_pk = f.pk"
                f" WHERE 1 = 1{scope} GROUP BY {f_day}, s.act, s.section, f.station_code, f.station_district",
            ),
            [minutes, *scope_args, minutes],
        ),
        (
            Statement(
                f"fir.counts_{verb}_any_act",
                f"{_INSERT} SELECT 'D', 2, {x_day}, '', x.section, x.station_code, x.station_district,"
                " SUM(x.status = 1), SUM(x.status = 2) FROM (SELECT DISTINCT f.pk, s.section, f.created_at,"
                " f.station_code, f.station_district, f.status FROM firs f JOIN fir_sections s ON s.fir_pk = f.pk"
                f" WHERE 1 = 1{scope}) AS x GROUP BY {x_day}, x.section, x.station_code, x.station_district",
            ),
            [minutes, *scope_args, minutes],
        ),
    ]
    district_days = (
        Statement(
            f"fir.counts_{verb}_district_day",
            f"{_INSERT} SELECT 'D', 3, {f_day}, '', '', '', f.station_district, SUM(f.status = 1), SUM(f.status = 2)"
            f" FROM firs f WHERE 1 = 1{district_scope} GROUP BY {f_day}, f.station_district",
        ),
        [minutes, *district_args, minutes],
    )
    out: list[tuple[Statement, list[Any]]] = []
    if not scoped:
        out.append((Statement("fir.counts_rebuild_clear", "DELETE FROM fir_counts"), []))
        out += [*day_rows, district_days]
        out += _roll_up(counts.MONTH, counts.DAY, None, None, None)
        out += _roll_up(counts.YEAR, counts.MONTH, None, None, None)
        return out
    assert station is not None and day is not None
    month, year = counts.period_start(day, counts.MONTH), counts.period_start(day, counts.YEAR)
    out.append(
        (
            Statement(
                "fir.counts_repair_clear_day",
                "DELETE FROM fir_counts WHERE station_code = %s AND grain = 'D' AND kind IN (0, 1, 2) AND period = %s",
            ),
            [station, day],
        )
    )
    start = counts.local_midnight(day, utc_offset).replace(tzinfo=None)
    out.append(
        (
            Statement(
                "fir.counts_repair_clear_district_day",
                "DELETE FROM fir_counts WHERE grain = 'D' AND kind = 3 AND period = %s AND station_district IN"
                " (SELECT DISTINCT station_district FROM firs WHERE station_code = %s AND created_at >= %s"
                " AND created_at < %s)",
            ),
            [day, station, start, start + timedelta(days=1)],
        )
    )
    out += [*day_rows, district_days]
    out += _roll_up(counts.MONTH, counts.DAY, station, month, _next(month, counts.MONTH))
    out += _roll_up(counts.YEAR, counts.MONTH, station, year, _next(year, counts.YEAR))
    return out


async def recount(db: Database, utc_offset: timedelta, station: str | None = None, day: date | None = None) -> int:
    """Run :func:`rebuild` in one transaction; returns the count rows written."""
    statements = rebuild(utc_offset, station, day)

    async def work(conn: Connection) -> int:
        written = 0
        for stmt, args in statements:
            written += await conn.execute(stmt, args)
        return written

    return await db.run(work, transaction=True)


def _next(period: date, grain: str) -> date:
    if grain == counts.MONTH:
        return date(period.year + period.month // 12, period.month % 12 + 1, 1)
    return date(period.year + 1, 1, 1)


def _roll_up(
    grain: str, finer: str, station: str | None, first: date | None, stop: date | None
) -> list[tuple[Statement, list[Any]]]:
    """Rows of ``grain`` summed from the rows of the next finer grain."""
    start = "period - INTERVAL (DAYOFMONTH(period) - 1) DAY" if grain == counts.MONTH else "MAKEDATE(YEAR(period), 1)"
    name = "month" if grain == counts.MONTH else "year"
    insert = (
        f"{_INSERT} SELECT %s, kind, {start}, act, section, station_code, station_district, SUM(drafts),"
        " SUM(finalized) FROM fir_counts WHERE grain = %s AND kind IN (0, 1, 2){scope}"
        f" GROUP BY kind, {start}, act, section, station_code, station_district"
    )
    if station is None:
        return [(Statement(f"fir.counts_rebuild_{name}", insert.format(scope="")), [grain, finer])]
    scope = " AND station_code = %s AND period >= %s AND period < %s"
    return [
        (
            Statement(
                f"fir.counts_repair_clear_{name}",
                "DELETE FROM fir_counts WHERE station_code = %s AND grain = %s AND kind IN (0, 1, 2) AND period = %s",
            ),
            [station, grain, first],
        ),
        (Statement(f"fir.counts_repair_{name}", insert.format(scope=scope)), [grain, finer, station, first, stop]),
    ]
