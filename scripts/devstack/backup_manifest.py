"""What a backup holds, written beside it as ``manifest.json``: row counts and ``CHECKSUM TABLE``
of every table of the ``fir`` and ``jobs`` schemas, the binlog position the backup ends at, and a
SHA-256 of every file, so a restore (or anyone later) can prove the backup is whole and unchanged."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pymysql

FORMAT = 1
MANIFEST = "manifest.json"
TableState = dict[str, dict[str, dict[str, int]]]
"""``{schema: {table: {"rows": n, "checksum": c}}}``."""


@dataclass
class Manifest:
    """The contents of ``manifest.json``."""

    created_at: str
    server_version: str
    tool: str
    binlog: dict[str, Any]
    """``file``, ``position`` and ``gtid`` of the backup's last change: point-in-time recovery starts here."""
    schemas: TableState
    files: dict[str, str] = field(default_factory=dict)
    """SHA-256 of every file of the backup, by path relative to the backup directory."""
    seconds: dict[str, float] = field(default_factory=dict)
    """How long each step took."""
    format: int = FORMAT

    def write(self, directory: Path) -> Path:
        """``directory/manifest.json``, readable by its owner only."""
        path = directory / MANIFEST
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump(asdict(self), out, indent=2, sort_keys=True)
            out.write("\n")
        return path

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """The manifest of the backup in ``directory``."""
        raw = json.loads((directory / MANIFEST).read_text())
        if raw.get("format") != FORMAT:
            raise ValueError(f"{directory / MANIFEST}: unknown manifest format {raw.get('format')!r}")
        return cls(**raw)


def table_state(conn: pymysql.connections.Connection, schemas: tuple[str, ...]) -> TableState:
    """Row count and ``CHECKSUM TABLE`` of every base table of ``schemas``.

    On a server that is being written to the numbers describe no single moment; compare them
    only between a backup and a server nobody writes to (a restore before its services start)."""
    state: TableState = {schema: {} for schema in schemas}
    marks = ", ".join(["%s"] * len(schemas))
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES"
            f" WHERE TABLE_SCHEMA IN ({marks}) AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME",
            schemas,
        )
        tables = [(str(schema), str(name)) for schema, name in cur.fetchall()]
        for schema, name in tables:
            quoted = f"`{schema}`.`{name}`"
            cur.execute(f"SELECT COUNT(*) FROM {quoted}")
            rows = cur.fetchone()
            cur.execute(f"CHECKSUM TABLE {quoted}")
            checksum = cur.fetchone()
            assert rows is not None and checksum is not None
            state[schema][name] = {"rows": int(rows[0]), "checksum": int(checksum[1] or 0)}
    return state


def differences(expected: TableState, actual: TableState) -> list[str]:
    """Tables whose rows or checksum differ, or that are missing on either side."""
    found: list[str] = []
    for schema in sorted(set(expected) | set(actual)):
        want, have = expected.get(schema, {}), actual.get(schema, {})
        for table in sorted(set(want) | set(have)):
            if table not in have:
                found.append(f"{schema}.{table}: missing")
            elif table not in want:
                found.append(f"{schema}.{table}: not in the backup")
            elif want[table] != have[table]:
                found.append(f"{schema}.{table}: expected {want[table]}, found {have[table]}")
    return found


def sha256(path: Path) -> str:
    """Hex SHA-256 of one file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(root: Path, under: str) -> dict[str, str]:
    """SHA-256 of every file below ``root / under``, by path relative to ``root``."""
    return {str(path.relative_to(root)): sha256(path) for path in sorted((root / under).rglob("*")) if path.is_file()}


def damaged_files(root: Path, manifest: Manifest) -> list[str]:
    """Files of the backup that are missing, changed, or not in the manifest."""
    actual = file_hashes(root, "data")
    found = [f"{name}: missing" for name in sorted(set(manifest.files) - set(actual))]
    found += [f"{name}: not in the manifest" for name in sorted(set(actual) - set(manifest.files))]
    both = sorted(set(actual) & set(manifest.files))
    found += [f"{name}: changed" for name in both if actual[name] != manifest.files[name]]
    return found
