"""The SQL statements of the FIR repository (``mysql_repository.py``), named.

Statements whose shape depends on the request (read mask, filter, order) are
built here too, by functions, so the query-plan check can enumerate them. The
other fir adapters keep their statements beside their code (``count_sql``,
``legal_repository``, ``mysql_jobs``, ``mysql_retention``); the check's catalog
(``statement_catalog``) lists them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from afirgen_runtime.db import Statement, to_db_time

from afirgen_fir.domain.model import EDITABLE_FIELDS
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
# Columns written by a change of a DRAFT (station and complaint never change): those of the
# fields an officer may edit, in FIELD_COLUMNS' order, then what generation and finalizing set.
MUTABLE_COLUMNS: tuple[str, ...] = (
    *(col for name, cols in FIELD_COLUMNS.items() if name in EDITABLE_FIELDS for col in cols),
    "generation",
    "status",
    "finalized_at",
)
ORDER_COLUMNS = {"create_time": "created_at", "update_time": "updated_at"}

# Columns written once, when a FIR is created; INSERT_FIR writes these, then MUTABLE_COLUMNS.
CREATE_COLUMNS: tuple[str, ...] = (
    "id",
    "station_code",
    "station_name",
    "station_district",
    "station_state",
    "fir_year",
    "fir_seq",
    "fir_number",
    "complaint_source",
    "complaint_language",
    "complaint_text",
    "facts",
    "revision",
    "created_at",
    "updated_at",
)
INSERT_FIR = Statement(
    "fir.insert",
    f"INSERT INTO firs ({', '.join(CREATE_COLUMNS + MUTABLE_COLUMNS)})"
    f" VALUES ({', '.join(['%s'] * len(CREATE_COLUMNS + MUTABLE_COLUMNS))})",
)
NEXT_SEQ = Statement(
    "fir.counter_next",
    "INSERT INTO fir_counters (station_code, fir_year, last_seq) VALUES (%s, %s, LAST_INSERT_ID(1))"
    " ON DUPLICATE KEY UPDATE last_seq = LAST_INSERT_ID(last_seq + 1)",
)
"""The station's next number for the year. ``LAST_INSERT_ID(expr)`` puts it in the statement's
OK packet as its insert id (the cursor's ``lastrowid``): no ``SELECT LAST_INSERT_ID()`` after."""
INSERT_SECTIONS = Statement(
    "fir.sections_insert",
    "INSERT INTO fir_sections (fir_pk, act, section, created_at, updated_at, station_code, station_district)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)",
)
# fir_sections copies the FIR's updated_at (lists with a section filter in update order).
TOUCH_SECTIONS = Statement("fir.sections_touch", "UPDATE fir_sections SET updated_at = %s WHERE fir_pk = %s")
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


def scope(flt: FirFilter, prefix: str = "") -> tuple[list[str], list[Any]]:
    """Conditions on the station and district columns (of the table ``prefix`` names)."""
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (("station_code", flt.station), ("station_district", flt.district)):
        if value is not None:
            clauses.append(f"{prefix}{column} = %s")
            args.append(value)
    return clauses, args


def where(flt: FirFilter, prefix: str = "") -> tuple[list[str], list[Any]]:
    """SQL conditions on ``firs`` and their arguments for a filter without a section
    (a ``section`` filter reads through ``fir_sections``: :func:`list_page`)."""
    clauses, args = scope(flt, prefix)
    if flt.status is not None:
        clauses.append(f"{prefix}status = %s")
        args.append(STATUS_CODES[flt.status.value])
    for op, when in flt.time_bounds:
        clauses.append(f"{prefix}created_at {_TIME_OPS[op]} %s")
        args.append(to_db_time(when))
    return clauses, args


def page_index(flt: FirFilter, order_column: str) -> str:
    """The index that returns a page's rows in order within the filter's station,
    district and status: the rows a page examines are the rows it returns.

    Forced in the statement because MariaDB, when a page selects whole rows, often
    prefers walking the bare time index and filtering, or reading every row of a
    status (tens of ms to seconds at a million FIRs), over this index's range."""
    time = "created" if order_column == "created_at" else "updated"
    status = "_status" if flt.status is not None else ""
    if flt.station is not None:
        return f"ix_firs_station{status}_{time}"
    if flt.district is not None:
        return f"ix_firs_district{status}_{time}"
    return f"ix_firs{status}_{time}"


def _keyset(col: str, pk: str, descending: bool, after: tuple[datetime, int]) -> tuple[str, list[Any]]:
    """Rows strictly after ``after``. The expanded row comparison, with its bound on
    ``col`` alone repeated, is a range MariaDB reads from the index."""
    op = "<" if descending else ">"
    when, pk_after = after
    return f"{col} {op}= %s AND ({col} {op} %s OR ({col} = %s AND {pk} {op} %s))", [when, when, when, pk_after]


def _source(flt: FirFilter, col: str) -> tuple[str, str, list[str], list[Any]]:
    """Where a page's rows come from: ``(FROM clause, prefix of the ordered table, conditions,
    arguments)``.

    A ``section`` filter reads ``fir_sections`` in order (its created_at, updated_at and
    fir_pk are the FIR's), within the station or district when the filter has one. An FIR
    citing the number under two acts comes twice, one row after the other; the repository
    keeps one."""
    if flt.section is None:
        return (f"firs FORCE INDEX ({page_index(flt, col)})", "", *where(flt))
    clauses, args = scope(flt, "s.")
    clauses.insert(0, "s.section = %s")
    args.insert(0, flt.section)
    if flt.status is not None:
        clauses.append("f.status = %s")
        args.append(STATUS_CODES[flt.status.value])
    for op, when in flt.time_bounds:
        clauses.append(f"s.created_at {_TIME_OPS[op]} %s")
        args.append(to_db_time(when))
    within = "station_" if flt.station is not None else "district_" if flt.district is not None else ""
    index = f"ix_fir_sections_{within}updated" if col == "updated_at" else f"ix_fir_sections_{within or 'section_'}"
    index = index.rstrip("_")
    return f"fir_sections s FORCE INDEX ({index}) STRAIGHT_JOIN firs f ON f.pk = s.fir_pk", "s.", clauses, args


def list_page(
    columns: Sequence[str],
    flt: FirFilter,
    order_field: str,
    descending: bool,
    after: tuple[datetime, int] | None,
    limit: int,
) -> tuple[Statement, list[Any]]:
    """Keyset page: rows strictly after ``after`` in the chosen order."""
    col = ORDER_COLUMNS[order_field]
    source, p, clauses, args = _source(flt, col)
    pk = f"{p}fir_pk" if p else "pk"
    if col == "updated_at":
        # An FIR is updated no earlier than it was created: a lower bound on create_time
        # bounds the walk along update_time as well.
        for op, when in flt.time_bounds:
            if op in (">", ">="):
                clauses.append(f"{p}updated_at >= %s")
                args.append(to_db_time(when))
    if after is not None:
        cond, more = _keyset(f"{p}{col}", pk, descending, after)
        clauses.append(cond)
        args += more
    direction = "DESC" if descending else "ASC"
    select = ", ".join(f"f.{c}" for c in columns) if p else ", ".join(columns)
    sql = f"SELECT {select} FROM {source}"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += f" ORDER BY {p}{col} {direction}, {pk} {direction} LIMIT %s"
    args.append(limit)
    return Statement("fir.list", sql), args


STATUS_CODES = {"DRAFT": 1, "FINALIZED": 2}
STATUS_NAMES = {v: k for k, v in STATUS_CODES.items()}
SOURCE_CODES = {"UNSPECIFIED": 0, "TEXT": 1, "AUDIO": 2, "IMAGE": 3, "MANUAL": 4}
SOURCE_NAMES = {v: k for k, v in SOURCE_CODES.items()}
