"""The FIR repository against the real MariaDB of the test stack."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pymysql
import pytest
from afirgen.fir.v1 import fir_pb2, fir_pb2_grpc
from afirgen_fir.adapters.mysql_repository import MySQLFirRepository
from afirgen_fir.domain.model import Complainant, Fir, LegalSectionRef, Station
from afirgen_fir.service_layer.ports import Change, IdempotencyKey
from afirgen_runtime.db import Database, Statement
from afirgen_runtime.errors import AlreadyExists
from afirgen_runtime.migrate import apply, status

from scripts.devstack.stack import Stack
from tests.conftest import mysql_settings, unique_station

pytestmark = pytest.mark.integration


def _fir(station: str) -> Fir:
    return Fir(
        station=Station(code=station, name="S"),
        complainant=Complainant(name="Kiran Rao"),
        summary="theft",
        legal_sections=[LegalSectionRef(act="BNS", section="303(2)", title="Theft")],
    )


def _repo(db: Database, now: datetime | None = None) -> MySQLFirRepository:
    return MySQLFirRepository(db, clock=lambda: now or datetime.now(UTC), numbering_utc_offset=timedelta(minutes=330))


async def test_200_concurrent_creates_number_1_to_200_exactly_once(fir_channel: object, station: str) -> None:
    """Through the gRPC service, as the edge calls it for the station's officer."""
    stub = fir_pb2_grpc.FirServiceStub(fir_channel)
    request = fir_pb2.CreateFirRequest(
        fir=fir_pb2.Fir(station=fir_pb2.Station(code=station), complainant=fir_pb2.Complainant(name="Meera"))
    )
    replies = await asyncio.gather(*(stub.CreateFir(request, timeout=60) for _ in range(200)))
    seqs = sorted(int(r.fir_number.rsplit("/", 1)[1]) for r in replies)
    assert seqs == list(range(1, 201))
    assert len({r.id for r in replies}) == 200


async def test_numbering_is_per_station_and_year_in_indian_time(fir_db: Database) -> None:
    station = unique_station()
    # 20:00 UTC on 31 December is already 1 January in India.
    new_year = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
    before = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    change = Change("test", "r")
    a, _ = await _repo(fir_db, before).create(_fir(station), action="CREATED", idempotency=None, change=change)
    b, _ = await _repo(fir_db, new_year).create(_fir(station), action="CREATED", idempotency=None, change=change)
    c, _ = await _repo(fir_db, new_year).create(_fir(station), action="CREATED", idempotency=None, change=change)
    assert [a.fir_number, b.fir_number, c.fir_number] == [
        f"{station}/2025/00001",
        f"{station}/2026/00001",
        f"{station}/2026/00002",
    ]


async def test_concurrent_requests_with_one_idempotency_key_make_one_fir(fir_db: Database) -> None:
    station = unique_station()
    repo = _repo(fir_db)
    key = IdempotencyKey(f"k-{uuid.uuid4()}", "hash-1")
    results = await asyncio.gather(
        *(repo.create(_fir(station), action="CREATED", idempotency=key, change=Change("t", "r")) for _ in range(20))
    )
    assert len({fir.id for fir, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    rows = await fir_db.fetch_one(Statement("t.count", "SELECT COUNT(*) FROM firs WHERE station_code = %s"), (station,))
    assert rows == (1,)
    with pytest.raises(AlreadyExists) as exc:
        await repo.create(
            _fir(station),
            action="CREATED",
            idempotency=IdempotencyKey(key.key, "other"),
            change=Change("t", "r"),
        )
    assert exc.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_failed_create_leaves_no_number_gap(fir_db: Database) -> None:
    station = unique_station()
    repo = _repo(fir_db)
    change = Change("t", "r")
    await repo.create(_fir(station), action="CREATED", idempotency=None, change=change)
    bad = _fir(station)
    bad.legal_sections = [LegalSectionRef(act="BNS", section="1"), LegalSectionRef(act="BNS", section="1")]
    # Duplicate section rows violate the primary key: the whole transaction rolls back.
    with pytest.raises(pymysql.err.IntegrityError):
        await repo.create(bad, action="CREATED", idempotency=None, change=change)
    third, _ = await repo.create(_fir(station), action="CREATED", idempotency=None, change=change)
    assert third.fir_number.endswith("/00002")


async def test_every_change_is_audited(fir_db: Database) -> None:
    repo = _repo(fir_db)
    fir, _ = await repo.create(
        _fir(unique_station()), action="CREATED", idempotency=None, change=Change("SI A", "req-1")
    )

    def edit(current: Fir) -> list[str]:
        current.summary = "changed"
        return ["summary"]

    await repo.modify(fir.id, edit, action="UPDATED", change=Change("SI B", "req-2"))
    events = await repo.events(fir.id, 0, 10)
    assert [(e.action, e.actor, e.request_id, e.revision) for e in events] == [
        ("CREATED", "SI A", "req-1", 1),
        ("UPDATED", "SI B", "req-2", 2),
    ]
    assert events[1].changed_fields == ["summary"]


async def test_migrations_go_down_and_up_again(stack: Stack) -> None:
    """On a scratch schema, so the running services are not disturbed."""
    scratch = f"mig_{uuid.uuid4().hex[:8]}"
    root = stack.root_connection()
    with root.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{scratch}`")
        cur.execute(f"GRANT ALL PRIVILEGES ON `{scratch}`.* TO 'afirgen'@'127.0.0.1'")
    settings = mysql_settings(stack)
    try:
        from pathlib import Path

        import afirgen_runtime.migrate as migrate

        fir_dir = Path(migrate.MIGRATIONS_ROOT) / "fir"
        # yoyo reads a folder per schema: point a scratch name at the fir migrations.
        link_root = Path(stack.cfg.run_dir) / "mig"
        link_root.mkdir(exist_ok=True)
        (link_root / scratch).symlink_to(fir_dir)
        applied = apply(settings, scratch, root=link_root)
        assert applied and all(ok for _, ok in status(settings, scratch, root=link_root))
        while apply(settings, scratch, down=True, root=link_root):
            pass
        with root.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'firs'",
                (scratch,),
            )
            assert cur.fetchone() == (0,)
        assert apply(settings, scratch, root=link_root) == applied
    finally:
        with root.cursor() as cur:
            cur.execute(f"DROP DATABASE `{scratch}`")
        root.close()
