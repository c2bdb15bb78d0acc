"""``make backup`` and ``make restore`` keep every FIR: a stack of its own (MariaDB only) gets
FIRs with audit trails, is backed up through the command line, and the backup is restored into
a fresh data directory of a second stack; the FIR tables come back identical and numbering
goes on where it stopped."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from afirgen_fir.adapters.mysql_repository import MySQLFirRepository
from afirgen_fir.domain.model import Complainant, Fir, LegalSectionRef, Station
from afirgen_fir.service_layer.ports import Change
from afirgen_runtime.db import Database

from scripts.devstack import backup
from scripts.devstack.backup_manifest import Manifest
from scripts.devstack.config import REPO, VENV, StackConfig
from scripts.devstack.stack import Stack
from tests.conftest import mysql_settings, unique_station

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
FIR_TABLES = ("firs", "fir_events", "fir_sections", "fir_counters")
STATIONS = 3
FIRS_PER_STATION = 40
IST = timedelta(minutes=330)


@dataclass
class Restoration:
    """A source stack with FIRs, its backup, and a second stack restored from it."""

    source: Stack
    target: Stack
    backup: Path
    stations: list[str]
    source_checksums: dict[str, int]
    restored_checksums: dict[str, int]


def _new_stack() -> Stack:
    # Under /tmp itself: MariaDB runs as the mysql user and must pass through the run dir's parents.
    return Stack(StackConfig.for_tests(Path(tempfile.mkdtemp(prefix="afirgen-test-"))), owned=True)


def _repo(db: Database) -> MySQLFirRepository:
    return MySQLFirRepository(db, clock=lambda: datetime.now(UTC), numbering_utc_offset=IST)


def _fir(station: str, n: int) -> Fir:
    return Fir(
        station=Station(code=station, name="Backup Test Station", district="Test District"),
        complainant=Complainant(name=f"Complainant {n}", phone="+91 98100 12345"),
        summary=f"complaint number {n}",
        legal_sections=[LegalSectionRef(act="BNS", section="303(2)", title="Theft")],
    )


async def _write_firs(stack: Stack) -> list[str]:
    """FIRs at a few stations, each created and then edited (two audit events apiece)."""
    stations = [unique_station() for _ in range(STATIONS)]
    db = Database(mysql_settings(stack))
    repo = _repo(db)

    def edit(fir: Fir) -> list[str]:
        fir.narrative = "The complainant states that the phone was taken at the bus stop."
        return ["narrative"]

    try:
        for n in range(FIRS_PER_STATION):
            for station in stations:
                created, _ = await repo.create(
                    _fir(station, n), action="CREATED", idempotency=None, change=Change("si.a", f"req-{n}")
                )
                await repo.modify(created.id, edit, action="UPDATED", change=Change("si.a", f"req-{n}-edit"))
    finally:
        await db.close()
    return stations


def _checksums(stack: Stack) -> dict[str, int]:
    conn = stack.root_connection()
    try:
        with conn.cursor() as cur:
            cur.execute("CHECKSUM TABLE " + ", ".join(f"fir.{table}" for table in FIR_TABLES))
            return {str(name).removeprefix("fir."): int(value) for name, value in cur.fetchall()}
    finally:
        conn.close()


def _backup_through_the_command_line(stack: Stack, out: Path) -> Path:
    """``make backup`` as the Makefile runs it, pointed at this test's stack."""
    subprocess.run(
        [
            str(VENV / "bin" / "python"),
            "-m",
            "scripts.devstack.backup",
            "create",
            "--run-dir",
            str(stack.cfg.run_dir),
            "--out",
            str(out),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (made,) = list(out.iterdir())
    return made


@pytest.fixture(scope="module")
async def restoration() -> AsyncIterator[Restoration]:
    source, target = _new_stack(), _new_stack()
    backups = Path(tempfile.mkdtemp(prefix="afirgen-test-backups-"))
    try:
        await asyncio.to_thread(source.up, database_only=True)
        stations = await _write_firs(source)
        before = _checksums(source)
        started = time.monotonic()
        made = await asyncio.to_thread(_backup_through_the_command_line, source, backups / "backups")
        backup_seconds = time.monotonic() - started
        started = time.monotonic()
        restored = await asyncio.to_thread(backup.restore, made, target.cfg, database_only=True)
        restore_seconds = time.monotonic() - started
        manifest = Manifest.read(made)
        print(
            f"\nbackup of {sum(t['rows'] for t in manifest.schemas['fir'].values())} fir rows:"
            f" {backup_seconds:.1f}s ({manifest.seconds}); restore {restore_seconds:.1f}s ({restored.seconds})"
        )
        yield Restoration(source, target, made, stations, before, _checksums(target))
    finally:
        await asyncio.to_thread(source.destroy)
        await asyncio.to_thread(target.destroy)
        shutil.rmtree(backups, ignore_errors=True)


async def test_the_restored_fir_tables_are_identical(restoration: Restoration) -> None:
    assert restoration.restored_checksums == restoration.source_checksums


async def test_the_manifest_records_the_checksums_of_the_source(restoration: Restoration) -> None:
    recorded = Manifest.read(restoration.backup).schemas["fir"]
    assert {table: recorded[table]["checksum"] for table in FIR_TABLES} == restoration.source_checksums


async def test_the_next_fir_after_a_restore_gets_the_next_number(restoration: Restoration) -> None:
    station = restoration.stations[0]
    db = Database(mysql_settings(restoration.target))
    try:
        fir, _ = await _repo(db).create(
            _fir(station, FIRS_PER_STATION), action="CREATED", idempotency=None, change=Change("si.a", "after")
        )
    finally:
        await db.close()
    year = (datetime.now(UTC) + IST).year
    assert fir.fir_number == f"{station}/{year}/{FIRS_PER_STATION + 1:05d}"


async def test_the_backup_is_readable_by_its_owner_only(restoration: Restoration) -> None:
    modes = set()
    for directory, _dirs, files in os.walk(restoration.backup):
        modes.add(("dir", stat.S_IMODE(os.stat(directory).st_mode)))
        modes |= {("file", stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode)) for name in files}
    assert modes == {("dir", 0o700), ("file", 0o600)}


async def test_a_running_stack_is_not_restored_over(restoration: Restoration) -> None:
    with pytest.raises(backup.BackupError, match="is running"):
        await asyncio.to_thread(backup.restore, restoration.backup, restoration.source.cfg)


async def test_a_damaged_backup_is_refused_before_anything_is_touched(restoration: Restoration, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(restoration.backup, damaged)
    with (damaged / "data" / "fir" / "firs.ibd").open("r+b") as table:
        table.seek(20_000)
        table.write(b"\x00rot\x00")
    fresh = StackConfig.for_tests(Path(tempfile.mkdtemp(prefix="afirgen-test-")))
    try:
        with pytest.raises(backup.BackupError, match=re.escape("data/fir/firs.ibd: changed")):
            await asyncio.to_thread(backup.restore, damaged, fresh, database_only=True)
    finally:
        shutil.rmtree(fresh.run_dir, ignore_errors=True)


async def _create(stack: Stack, station: str, n: int) -> None:
    db = Database(mysql_settings(stack))
    try:
        await _repo(db).create(_fir(station, n), action="CREATED", idempotency=None, change=Change("si.a", f"pitr-{n}"))
    finally:
        await db.close()


async def _until_the_clock_passes(moment: datetime) -> None:
    """Binary log events carry whole seconds: what comes next must start after ``moment``."""
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.01)
    assert datetime.now(UTC) > moment


async def test_point_in_time_recovery_keeps_what_came_before_the_moment_and_nothing_after(tmp_path: Path) -> None:
    """The operator's case: a bad change at 10:14; restore last night's backup into the stopped
    stack and replay its binary logs up to 10:14."""
    stack, station = _new_stack(), unique_station()
    try:
        await asyncio.to_thread(stack.up, database_only=True)
        await _create(stack, station, 1)  # in the backup
        made = await asyncio.to_thread(backup.create, stack.cfg, tmp_path / "backups")
        await _create(stack, station, 2)  # after the backup, before the moment: replayed
        moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)  # binlog times are whole seconds
        await _until_the_clock_passes(moment)
        await _create(stack, station, 3)  # the "bad change": after the moment
        await asyncio.to_thread(stack.down)
        await asyncio.to_thread(backup.restore, made, stack.cfg, database_only=True, until=moment)
        conn = stack.root_connection()
        with conn.cursor() as cur:
            cur.execute("SELECT fir_number FROM fir.firs WHERE station_code = %s ORDER BY fir_seq", (station,))
            numbers = [row[0].rsplit("/", 1)[1] for row in cur.fetchall()]
        conn.close()
    finally:
        await asyncio.to_thread(stack.destroy)
    assert numbers == ["00001", "00002"]
