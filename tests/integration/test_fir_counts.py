"""Statistics and totals read from the counts equal the ones computed from the FIRs
themselves, after creates, edits of sections and finalizations on both sides of a
local (IST) midnight that is also a month and a year boundary; and the repair of a
station's day finds nothing to change."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from afirgen_fir.adapters import count_sql, sql
from afirgen_fir.adapters.mysql_repository import MySQLFirRepository
from afirgen_fir.domain.model import Complainant, Fir, FirStatus, LegalSectionRef, Station
from afirgen_fir.domain.queries import FirFilter
from afirgen_fir.service_layer.ports import Change, FirCounts
from afirgen_runtime.db import Database, Statement

from tests.conftest import unique_station

pytestmark = pytest.mark.integration

IST = timedelta(minutes=330)
NEW_YEAR = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)
"""Midnight of 1 January 2027 in IST: a new local day, month and year."""
SYSTEM = Change(actor="test", request_id="")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _fir(station: str, district: str, *sections: tuple[str, str]) -> Fir:
    return Fir(
        station=Station(code=station, name="Counted", district=district),
        complainant=Complainant(name="Meera Iyer"),
        summary="phone snatched",
        legal_sections=[LegalSectionRef(act=act, section=number, title="t") for act, number in sections],
    )


def _set_sections(*sections: tuple[str, str]) -> Any:
    def mutate(fir: Fir) -> list[str]:
        fir.legal_sections = [LegalSectionRef(act=a, section=n, title="t") for a, n in sections]
        return ["legal_sections"]

    return mutate


def _finalize(at: datetime) -> Any:
    def mutate(fir: Fir) -> list[str]:
        fir.status = FirStatus.FINALIZED
        fir.finalize_time = at
        return ["status", "finalize_time"]

    return mutate


async def _computed(db: Database, flt: FirFilter, days: int, now: datetime) -> FirCounts:
    """GetFirStats computed by GROUP BY over ``firs`` (local days), with no counts involved."""
    clauses, args = sql.where(flt)
    cond = " WHERE " + " AND ".join(clauses) if clauses else ""
    since = datetime.combine((now + IST).date() - timedelta(days=days - 1), datetime.min.time()) - IST
    status = await db.fetch_all(Statement("t.status", f"SELECT status, COUNT(*) FROM firs{cond} GROUP BY status"), args)
    station = await db.fetch_all(
        Statement(
            "t.station",
            f"SELECT station_code, COUNT(*) AS n FROM firs{cond} GROUP BY station_code ORDER BY n DESC, station_code"
            " LIMIT 100",
        ),
        args,
    )
    fclauses = [f"f.{c}" for c in clauses]
    section = await db.fetch_all(
        Statement(
            "t.section",
            "SELECT CONCAT(s.act, ' ', s.section) AS k, COUNT(*) AS n FROM fir_sections s JOIN firs f"
            f" ON f.pk = s.fir_pk WHERE 1 = 1{''.join(' AND ' + c for c in fclauses)}"
            " GROUP BY s.act, s.section ORDER BY n DESC, k LIMIT 100",
        ),
        args,
    )
    day = await db.fetch_all(
        Statement(
            "t.day",
            f"SELECT DATE(created_at + INTERVAL 330 MINUTE) AS d, COUNT(*) FROM firs{cond}"
            f"{' AND' if cond else ' WHERE'} created_at >= %s GROUP BY d ORDER BY d",
        ),
        [*args, since.replace(tzinfo=None)],
    )
    by_status = [(sql.STATUS_NAMES[int(s)], int(n)) for s, n in sorted(status)]
    return FirCounts(
        total=sum(n for _, n in by_status),
        by_status=by_status,
        by_station=[(str(k), int(n)) for k, n in station],
        by_section=[(str(k), int(n)) for k, n in section],
        by_day=[(d.isoformat(), int(n)) for d, n in day],
    )


async def _computed_count(db: Database, flt: FirFilter) -> int:
    clauses, args = sql.where(FirFilter(flt.station, flt.status, flt.district, None, flt.time_bounds))
    if flt.section is not None:
        clauses.append("pk IN (SELECT fir_pk FROM fir_sections WHERE section = %s)")
        args.append(flt.section)
    cond = " WHERE " + " AND ".join(clauses) if clauses else ""
    row = await db.fetch_one(Statement("t.count", f"SELECT COUNT(*) FROM firs{cond}"), args)
    assert row is not None
    return int(row[0])


async def _count_rows(db: Database, stations: list[str]) -> list[tuple[Any, ...]]:
    rows = await db.fetch_all(
        Statement(
            "t.rows",
            "SELECT grain, kind, period, act, section, station_code, station_district, drafts, finalized"
            " FROM fir_counts WHERE station_code IN (%s, %s) AND (drafts <> 0 OR finalized <> 0)",
        ),
        stations,
    )
    return sorted(tuple(r) for r in rows)


async def test_counts_equal_the_firs_across_an_ist_new_year(fir_db: Database) -> None:
    clock = Clock(NEW_YEAR - timedelta(minutes=20))
    repo = MySQLFirRepository(fir_db, clock=clock, numbering_utc_offset=IST)
    district = f"Counts {uuid.uuid4().hex[:8]}"
    a, b = unique_station(), unique_station()
    ids: list[str] = []

    async def create(station: str, *sections: tuple[str, str]) -> None:
        fir, _ = await repo.create(
            _fir(station, district, *sections), action="CREATED", idempotency=None, change=SYSTEM
        )
        ids.append(fir.id)

    # 23:40 IST on 31 December 2026.
    await create(a, ("BNS", "303"))
    await create(a, ("BNS", "303"), ("IPC", "303"))  # one FIR, one section number under two acts
    await create(b, ("BNS", "304"))
    await create(a)
    # 00:05 IST on 1 January 2027.
    clock.now = NEW_YEAR + timedelta(minutes=5)
    await create(a, ("BNS", "304"))
    await create(b, ("BNS", "303"), ("BNS", "318"))
    await create(b)
    # Later that day: edit sections of last year's draft, finalize FIRs of both years.
    clock.now = NEW_YEAR + timedelta(hours=3)
    await repo.modify(ids[0], _set_sections(("BNS", "309")), action="UPDATED", change=SYSTEM)
    await repo.modify(ids[1], _finalize(clock.now), action="FINALIZED", change=SYSTEM)
    await repo.modify(ids[4], _finalize(clock.now), action="FINALIZED", change=SYSTEM)
    await repo.modify(ids[5], _set_sections(("BNS", "303")), action="UPDATED", change=SYSTEM)
    await repo.modify(ids[5], _finalize(clock.now), action="FINALIZED", change=SYSTEM)
    now = clock.now

    around_midnight = ((">=", NEW_YEAR - timedelta(minutes=25)), ("<", NEW_YEAR + timedelta(minutes=4)))
    filters = [
        FirFilter(station=a),
        FirFilter(station=b, status=FirStatus.FINALIZED),
        FirFilter(station=a, status=FirStatus.DRAFT),
        FirFilter(district=district),
        FirFilter(district=district, status=FirStatus.FINALIZED),
        FirFilter(district=district, time_bounds=around_midnight),
        FirFilter(district=district, time_bounds=((">", NEW_YEAR),)),
        FirFilter(station=b, time_bounds=(("<=", NEW_YEAR + timedelta(minutes=5)),)),
        FirFilter(),
        FirFilter(status=FirStatus.DRAFT),
    ]
    for flt in filters:
        for days in (1, 2, 30):
            assert await repo.stats(flt, days, now) == await _computed(fir_db, flt, days, now), (flt, days)
        assert await repo.count(flt) == await _computed_count(fir_db, flt), flt
    for flt in (
        FirFilter(district=district, section="303"),
        FirFilter(station=a, section="303"),
        FirFilter(district=district, section="318", status=FirStatus.FINALIZED),
        FirFilter(district=district, section="303", time_bounds=around_midnight),
    ):
        assert await repo.count(flt) == await _computed_count(fir_db, flt), flt

    # What the counts hold is what recounting the FIRs gives: the repair changes nothing.
    before = await _count_rows(fir_db, [a, b])
    for station in (a, b):
        for day in (date(2026, 12, 31), date(2027, 1, 1)):
            await count_sql.recount(fir_db, IST, station, day)
    assert await _count_rows(fir_db, [a, b]) == before
    assert {r[2] for r in before if r[0] == "Y"} == {date(2026, 1, 1), date(2027, 1, 1)}


async def test_a_page_with_a_section_filter_lists_an_fir_once(fir_db: Database) -> None:
    """An FIR citing the section number under two acts has two fir_sections rows."""
    repo = MySQLFirRepository(fir_db, clock=lambda: datetime.now(UTC), numbering_utc_offset=IST)
    station = unique_station()
    made = []
    for sections in ([("BNS", "303"), ("IPC", "303")], [("BNS", "303")], [("IPC", "303"), ("BNS", "303")]):
        fir, _ = await repo.create(_fir(station, "D", *sections), action="CREATED", idempotency=None, change=SYSTEM)
        made.append(fir.id)
    from afirgen_fir.domain.queries import ListQuery

    seen: list[str] = []
    after = None
    for _ in range(3):
        page, after_key = await repo.list_page(
            ListQuery(FirFilter(station=station, section="303"), "create_time", True, 1, after)
        )
        seen += [f.id for f in page]
        if after_key is None:
            break
        after = after_key
    assert seen == made[::-1]
    assert await repo.count(FirFilter(station=station, section="303")) == 3
