"""The SQL statements of the FIR repository (``mysql_repository.py``), named.

Statements whose shape depends on the request (read mask, filter, order) are
built here too, by functions, so the query-plan check can enumerate them. The
other fir adapters keep their statements beside their code (``legal_repository``,
``mysql_jobs``, ``mysql_retention``); the check's catalog lists them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from afirgen_runtime.db import Statement, to_db_time

from afirgen_fir.domain.queries import FirFilter

# Columns that back each top-level FIR field (AIP-157 read masks select these).
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": (),
    "fir_number": ("fir_number",),
    "status": (),
    "station": ("station_code", "station_name", "station_district", "station_state"),
    "complainant": ("complainant",),
    "incident": ("incident",),
    "accused": ("accused",),
    "witnesses": ("witnesses",),
    "properties": ("properties",),
    "complaint": ("complaint_source", "complaint_language", "complaint_text"),
    "summary": ("summary",),
    "narrative": ("narrative",),
    "legal_sections": ("legal_sections",),
    "action_taken": ("action_taken",),
    "investigating_officer": ("officer_name", "officer_rank"),
    "generation": ("generation",),
    "facts": ("facts",),
    "create_time": (),
    "update_time": (),
    "finalize_time": ("finalized_at",),
    "etag": (),
}
# Always loaded: identity, version, keyset and caching decisions need them.
BASE_COLUMNS: tuple[str, ...] = ("pk", "id", "status", "revision", "created_at", "updated_at")
ALL_COLUMNS: tuple[str, ...] = BASE_COLUMNS + tuple(
    dict.fromkeys(col for cols in FIELD_COLUMNS.values() for col in cols)
)
# Columns written by an edit of a DRAFT (station and complaint never change).
MUTABLE_COLUMNS: tuple[str, ...] = (
    "complainant",
    "incident",
    "accused",
    "witnesses",
    "properties",
    "summary",
    "narrative",
    "legal_sections",
    "action_taken",
    "officer_name",
    "officer_rank",
    "generation",
    "status",
    "finalized_at",
)
ORDER_COLUMNS = {"create_time": "created_at", "update_time": "updated_at"}

INSERT_FIR = Statement(
    "fir.insert",
    "INSERT INTO firs (id, station_code, station_name, station_district, station_state, fir_year, fir_seq,"
    " fir_number, status, complainant, incident, accused, witnesses, properties, complaint_source,"
    " complaint_language, complaint_text, summary, narrative, legal_sections, action_taken, officer_name,"
    " officer_rank, generation, facts, revision, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
    " %s, %s, %s, %s)",
)
NEXT_SEQ = Statement(
    "fir.counter_next",
    "INSERT INTO fir_counters (station_code, fir_year, last_seq) VALUES (%s, %s, LAST_INSERT_ID(1))"
    " ON DUPLICATE KEY UPDATE last_seq = LAST_INSERT_ID(last_seq + 1)",
)
LAST_ID = Statement("fir.counter_read", "SELECT LAST_INSERT_ID()")
INSERT_SECTIONS = Statement(
    "fir.sections_insert",
    "INSERT INTO fir_sections (fir_pk, act, section, created_at) VALUES (%s, %s, %s, %s)",
)
DELETE_SECTIONS = Statement("fir.sections_delete", "DELETE FROM fir_sections WHERE fir_pk = %s")
CLAIM_IDEMPOTENCY = Statement(
    "fir.idempotency_claim",
    "INSERT INTO fir_idempotency_keys (idem_key, request_hash, fir_pk, created_at) VALUES (%s, %s, 0, %s)",
)
BIND_IDEMPOTENCY = Statement("fir.idempotency_bind", "UPDATE fir_idempotency_keys SET fir_pk = %s WHERE idem_key = %s")
GET_IDEMPOTENCY = Statement(
    "fir.idempotency_get", "SELECT request_hash, fir_pk FROM fir_idempotency_keys WHERE idem_key = %s"
)
INSERT_EVENT = Statement(
    "fir.event_insert",
    "INSERT INTO fir_events (fir_pk, action, actor, changed_fields, revision, request_id, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
)
LIST_EVENTS = Statement(
    "fir.events_list",
    "SELECT e.pk, e.action, e.actor, e.changed_fields, e.revision, e.request_id, e.created_at"
    " FROM fir_events e JOIN firs f ON f.pk = e.fir_pk"
    " WHERE f.id = %s AND e.pk > %s ORDER BY e.pk LIMIT %s",
)
FIR_EXISTS = Statement("fir.exists", "SELECT pk FROM firs WHERE id = %s")


def select_columns(fields: Iterable[str]) -> tuple[str, ...]:
    """Columns for a read mask's top-level ``fields`` (all when empty)."""
    wanted = list(fields)
    if not wanted:
        return ALL_COLUMNS
    extra = [col for name in wanted for col in FIELD_COLUMNS[name]]
    return BASE_COLUMNS + tuple(c for c in dict.fromkeys(extra) if c not in BASE_COLUMNS)


def get_by_id(columns: Sequence[str], *, for_update: bool = False) -> Statement:
    """SELECT of one FIR by id."""
    lock = " FOR UPDATE" if for_update else ""
    name = "fir.get_for_update" if for_update else "fir.get"
    return Statement(name, f"SELECT {', '.join(columns)} FROM firs WHERE id = %s{lock}")


def get_by_pk(columns: Sequence[str]) -> Statement:
    """SELECT of one FIR by primary key."""
    return Statement("fir.get_by_pk", f"SELECT {', '.join(columns)} FROM firs WHERE pk = %s")


def update_fir() -> Statement:
    """Write a new revision of a FIR (guarded by the revision read under lock)."""
    sets = ", ".join(f"{c} = %s" for c in MUTABLE_COLUMNS)
    return Statement(
        "fir.update",
        f"UPDATE firs SET {sets}, revision = revision + 1, updated_at = %s WHERE pk = %s AND revision = %s",
    )


_TIME_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}


def where(flt: FirFilter, alias: str = "") -> tuple[list[str], list[Any]]:
    """SQL conditions and arguments for a filter."""
    p = f"{alias}." if alias else ""
    clauses: list[str] = []
    args: list[Any] = []
    if flt.station is not None:
        clauses.append(f"{p}station_code = %s")
        args.append(flt.station)
    if flt.status is not None:
        clauses.append(f"{p}status = %s")
        args.append(STATUS_CODES[flt.status.value])
    if flt.district is not None:
        clauses.append(f"{p}station_district = %s")
        args.append(flt.district)
    if flt.section is not None:
        clauses.append(f"{p}pk IN (SELECT s.fir_pk FROM fir_sections s WHERE s.section = %s)")
        args.append(flt.section)
    for op, when in flt.time_bounds:
        clauses.append(f"{p}created_at {_TIME_OPS[op]} %s")
        args.append(to_db_time(when))
    return clauses, args


def list_page(
    columns: Sequence[str],
    flt: FirFilter,
    order_field: str,
    descending: bool,
    after: tuple[datetime, int] | None,
    limit: int,
) -> tuple[Statement, list[Any]]:
    """Keyset page: rows strictly after ``after`` in the chosen order."""
    clauses, args = where(flt)
    col = ORDER_COLUMNS[order_field]
    if after is not None:
        op = "<" if descending else ">"
        # Expanded row comparison: MariaDB turns it into an index range.
        clauses.append(f"({col} {op} %s OR ({col} = %s AND pk {op} %s))")
        args += [after[0], after[0], after[1]]
    direction = "DESC" if descending else "ASC"
    sql = f"SELECT {', '.join(columns)} FROM firs"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += f" ORDER BY {col} {direction}, pk {direction} LIMIT %s"
    args.append(limit)
    return Statement("fir.list", sql), args


def count(flt: FirFilter) -> tuple[Statement, list[Any]]:
    """COUNT(*) of FIRs matching a filter."""
    clauses, args = where(flt)
    sql = "SELECT COUNT(*) FROM firs" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    return Statement("fir.count", sql), args


def stats(flt: FirFilter, since: datetime) -> list[tuple[str, Statement, list[Any]]]:
    """The GROUP BY statements of GetFirStats."""
    clauses, args = where(flt)
    cond = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    fclauses, fargs = where(flt, "f")
    fcond = (" AND " + " AND ".join(fclauses)) if fclauses else ""
    day_cond = cond + (" AND " if cond else " WHERE ") + "created_at >= %s"
    return [
        (
            "status",
            Statement("fir.stats_by_status", f"SELECT status, COUNT(*) FROM firs{cond} GROUP BY status"),
            args,
        ),
        (
            "station",
            Statement(
                "fir.stats_by_station",
                f"SELECT station_code, COUNT(*) AS n FROM firs{cond} GROUP BY station_code ORDER BY n DESC,"
                " station_code LIMIT 100",
            ),
            args,
        ),
        (
            "section",
            Statement(
                "fir.stats_by_section",
                "SELECT CONCAT(s.act, ' ', s.section) AS k, COUNT(*) AS n FROM fir_sections s"
                f" JOIN firs f ON f.pk = s.fir_pk WHERE 1 = 1{fcond}"
                " GROUP BY s.act, s.section ORDER BY n DESC, k LIMIT 100",
            ),
            fargs,
        ),
        (
            "day",
            Statement(
                "fir.stats_by_day",
                f"SELECT DATE(created_at) AS d, COUNT(*) FROM firs{day_cond} GROUP BY d ORDER BY d",
            ),
            [*args, to_db_time(since)],
        ),
    ]


STATUS_CODES = {"DRAFT": 1, "FINALIZED": 2}
STATUS_NAMES = {v: k for k, v in STATUS_CODES.items()}
SOURCE_CODES = {"UNSPECIFIED": 0, "TEXT": 1, "AUDIO": 2, "IMAGE": 3, "MANUAL": 4}
SOURCE_NAMES = {v: k for k, v in SOURCE_CODES.items()}
