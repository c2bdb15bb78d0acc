"""Every statement shape the FIR service issues, named and with arguments.

Built by the same functions the repositories use. The query-plan check
(``entrypoints/query_plans.py``, ``tests/integration/test_query_plans.py``)
EXPLAINs each shape; the benchmark's database scenario times each one on the
seeded million FIRs, with :class:`Samples` taken from that data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from afirgen_runtime.clock import utc_now
from afirgen_runtime.db import Statement, to_db_time

from afirgen_fir.adapters import count_sql, sql
from afirgen_fir.domain import counts
from afirgen_fir.domain.model import FirStatus
from afirgen_fir.domain.queries import FirFilter

PAGE = 51
"""Rows a list page reads (50 and one to know there is a next page)."""
WHOLE_TABLE = frozenset(
    {
        "fir.counts_rebuild_clear",
        "fir.counts_rebuild_total",
        "fir.counts_rebuild_by_act",
        "fir.counts_rebuild_any_act",
        "fir.counts_rebuild_month",
        "fir.counts_rebuild_year",
    }
)
"""Statements of the offline full recount (``entrypoints/rebuild_counts.py``): they read
every row on purpose. The plan check lists them under the label ``counts_rebuild_all``
and expects no index; their scoped forms (a station's day) are checked like the rest."""
NEW_ID = "ffffffff-ffff-4fff-8fff-ffffffffffff"
"""Id of the FIR the sample insert writes (no stored FIR has it)."""


@dataclass(frozen=True)
class Samples:
    """Argument values of the catalog."""

    fir_id: str
    """An FIR's id (reads, locks and documents of one FIR)."""
    fir_pk: int
    """Its primary key."""
    revision: int
    """Its revision (an update of it writes the row)."""
    station: str
    """A station with FIRs: the station scope of lists, totals and statistics."""
    district: str
    """A district with FIRs: the district scope."""
    section: str
    """A section number FIRs cite: the ``section`` filter."""
    now: datetime = field(default_factory=utc_now)
    """Aware; time filters and statistics count back from it."""
    keyset: tuple[datetime, int] | None = None
    """``(time, pk)`` a page continues after (default: ``now``, so every row comes before it)."""
    utc_offset: timedelta = timedelta(hours=5, minutes=30)

    @classmethod
    def plan_check(cls) -> Samples:
        """Values of the plan check's seeded schema (``entrypoints/query_plans.py``)."""
        return cls("00000000-0000-0000-0000-000000000000", 1, 1, "PS-001", "District 3", "303")


def filters(s: Samples) -> dict[str, FirFilter]:
    """The filter shapes lists, totals and statistics are checked with (every access scope:
    all, a district, a station; with and without the other conditions)."""
    month = ((">=", s.now - timedelta(days=30)), ("<", s.now))
    return {
        "all": FirFilter(),
        "status": FirFilter(status=FirStatus.FINALIZED),
        "station": FirFilter(station=s.station),
        "station_status": FirFilter(station=s.station, status=FirStatus.DRAFT),
        "district": FirFilter(district=s.district),
        "district_status": FirFilter(district=s.district, status=FirStatus.FINALIZED),
        "section": FirFilter(section=s.section),
        "station_section": FirFilter(station=s.station, section=s.section),
        "district_section": FirFilter(district=s.district, section=s.section),
        "last_30_days": FirFilter(time_bounds=month),
        "station_last_30_days": FirFilter(station=s.station, time_bounds=month),
    }


def labelled(s: Samples | None = None) -> list[tuple[str, Statement, list[Any]]]:
    """``(label, statement, arguments)`` for every shape; labels are unique."""
    s = s or Samples.plan_check()
    now = to_db_time(s.now)
    keyset = s.keyset or (now, 10**12)
    out: list[tuple[str, Statement, list[Any]]] = [
        ("get", sql.get_by_id(sql.ALL_COLUMNS), [s.fir_id]),
        ("get.mask", sql.get_by_id(sql.select_columns(["fir_number", "status"])), [s.fir_id]),
        ("get_for_update", sql.get_by_id(sql.ALL_COLUMNS, for_update=True), [s.fir_id]),
        ("get_by_pk", sql.get_by_pk(sql.ALL_COLUMNS), [s.fir_pk]),
        ("exists", sql.FIR_EXISTS, [s.fir_id]),
        ("idempotency_get", sql.GET_IDEMPOTENCY, ["catalog-missing-key"]),
        ("events_list", sql.LIST_EVENTS, [s.fir_id, 0, 100]),
        ("counter_next", sql.NEXT_SEQ, [s.station, now.year]),
        ("sections_delete", sql.DELETE_SECTIONS, [s.fir_pk]),
        ("idempotency_bind", sql.BIND_IDEMPOTENCY, [s.fir_pk, "catalog-key"]),
        ("idempotency_claim", sql.CLAIM_IDEMPOTENCY, ["catalog-key", "0" * 64, now]),
        ("sections_insert", sql.INSERT_SECTIONS, [s.fir_pk, "BNS", "999", now, now, s.station, s.district]),
        ("sections_touch", sql.TOUCH_SECTIONS, [now, s.fir_pk]),
        ("event_insert", sql.INSERT_EVENT, [s.fir_pk, "UPDATED", "catalog", "[]", 2, "", now]),
        ("insert", sql.INSERT_FIR, [*_insert_args(s, now), *_mutable_sample()]),
        ("update", sql.update_fir(), [*_mutable_sample(), now, s.fir_pk, s.revision]),
        ("counts_add", count_sql.ADD_COUNTS, _counts_sample(s)),
        *_legal(now),
        *_jobs(s, now),
    ]
    for name, flt in filters(s).items():
        for order in ("create_time", "update_time"):
            for descending in (True, False):
                after = keyset if descending else (keyset[0] - timedelta(days=365), keyset[1])
                stmt, args = sql.list_page(sql.ALL_COLUMNS, flt, order, descending, after, PAGE)
                out.append((f"list.{name}.{order}.{'desc' if descending else 'asc'}", stmt, args))
        counted = count_sql.count(flt, s.utc_offset)
        if counted is not None:
            out.append((f"count.{name}", *counted))
        if flt.section is None:
            since = counts.local_midnight(counts.local_day(s.now, s.utc_offset) - timedelta(days=29), s.utc_offset)
            out += [
                (f"stats_{part}.{name}", stmt, args) for part, stmt, args in count_sql.stats(flt, since, s.utc_offset)
            ]
    year_ago = counts.local_midnight(counts.local_day(s.now, s.utc_offset) - timedelta(days=365), s.utc_offset)
    out += [
        (f"stats_{part}.all.366_days", stmt, args)
        for part, stmt, args in count_sql.stats(FirFilter(), year_ago, s.utc_offset)
        if part == "day"
    ]
    return out


def _insert_args(s: Samples, now: datetime) -> list[Any]:
    number = f"{s.station}/{now.year}/9999999"
    return [NEW_ID, s.station, "", s.district, "", now.year, 9_999_999, number, 0, "en", "", None, 1, now, now]


def _mutable_sample() -> list[Any]:
    return ["{}", "{}", "[]", "[]", "[]", "", "", "[]", "", "", "", None, 1, None]


def _counts_sample(s: Samples) -> list[Any]:
    day = counts.local_day(s.now, s.utc_offset)
    return [counts.DAY, counts.TOTAL, day, "", "", s.station, s.district, 1, 0]


def _legal(now: datetime) -> list[tuple[str, Statement, list[Any]]]:
    from afirgen_fir.adapters import legal_repository as legal

    return [
        ("legal.search", legal.SEARCH, ["stolen mobile phone", "stolen mobile phone", 8]),
        ("legal.by_section", legal.BY_SECTION, ["303", 10]),
        ("legal.by_act_section", legal.BY_ACT_SECTION, ["BNS", "303", 10]),
        ("legal.count", legal.COUNT, []),
        ("legal.upsert", legal.UPSERT, ["BNS", "303", "Theft", "", "", None, None, "", "", "seed", now]),
    ]


def _jobs(s: Samples, now: datetime) -> list[tuple[str, Statement, list[Any]]]:
    """The outbox and documents (``mysql_jobs``), the repair of counts, the retention purges."""
    from afirgen_fir.adapters import mysql_jobs as jobs
    from afirgen_fir.adapters import mysql_retention as retention

    day: date = counts.local_day(s.now, s.utc_offset)
    repair = [
        (f"counts_repair.{i}.{stmt.name.removeprefix('fir.')}", stmt, args)
        for i, (stmt, args) in enumerate(count_sql.rebuild(s.utc_offset, s.station, day))
    ]
    recount = [
        (f"counts_rebuild_all.{i}.{stmt.name.removeprefix('fir.')}", stmt, args)
        for i, (stmt, args) in enumerate(count_sql.rebuild(s.utc_offset))
    ]
    return [
        (
            "outbox_insert",
            jobs.INSERT_OUTBOX,
            [s.fir_pk, "fir.render_document", "{}", 5, "catalog-outbox", "", now, now],
        ),
        ("outbox_pending", jobs.PENDING_OUTBOX, [now, 50]),
        ("outbox_sent", jobs.outbox_sent(2), [now, 0, s.fir_id, 1, s.fir_id, 0, 1]),
        ("outbox_failed", jobs.OUTBOX_FAILED, [now, "error", 0]),
        ("document_get", jobs.GET_DOCUMENT, [s.fir_id]),
        ("document_revision", jobs.DOCUMENT_REVISION, [s.fir_id]),
        ("document_save", jobs.SAVE_DOCUMENT, [s.fir_id, 1, 1, "25504446", "0" * 64, now]),
        *repair,
        *recount,
        ("purge_idempotency", retention.PURGE_IDEMPOTENCY, [now - timedelta(days=7), 1000]),
        ("purge_outbox", retention.PURGE_OUTBOX, [now - timedelta(days=7), 1000]),
    ]
