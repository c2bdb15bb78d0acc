"""Rows the integration tests of fir's tables hang their own rows on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afirgen_fir.adapters.mysql_repository import MySQLFirRepository
from afirgen_fir.domain.model import Complainant, Fir, Station
from afirgen_fir.service_layer.ports import Change
from afirgen_runtime.db import Database, Statement

from tests.conftest import unique_station

IST = timedelta(minutes=330)
"""fir's default numbering offset (India Standard Time)."""


async def stored_fir_pk(db: Database) -> int:
    """The primary key of a new FIR of a station of its own (outbox rows need one)."""
    repo = MySQLFirRepository(db, clock=lambda: datetime.now(UTC), numbering_utc_offset=IST)
    fir, _ = await repo.create(
        Fir(station=Station(code=unique_station()), complainant=Complainant(name="Integration Test")),
        action="CREATED",
        idempotency=None,
        change=Change("t", "r"),
    )
    row = await db.fetch_one(Statement("t.fir_pk", "SELECT pk FROM firs WHERE id = %s"), (fir.id,))
    assert row is not None
    return int(row[0])
