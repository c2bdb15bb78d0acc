"""Schema migrations with yoyo: ``migrations/<schema>/NNNN_name.sql`` plus
``NNNN_name.rollback.sql``.

Usage::

    python -m afirgen_runtime.migrate up     --schema fir   # apply pending
    python -m afirgen_runtime.migrate down   --schema fir   # roll back the last one
    python -m afirgen_runtime.migrate status --schema fir

The connection comes from the same ``AFIRGEN_MYSQL_*`` variables the
services use (``AFIRGEN_MYSQL_DATABASE`` is overridden by ``--schema``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from yoyo import get_backend, read_migrations

from afirgen_runtime.settings import MySQLSettings, load

MIGRATIONS_ROOT = Path(__file__).resolve().parents[2] / "migrations"


def apply(settings: MySQLSettings, schema: str, *, down: bool = False, root: Path = MIGRATIONS_ROOT) -> list[str]:
    """Apply pending migrations (or roll back the latest); returns their ids."""
    backend = get_backend(dataclasses.replace(settings, database=schema).url())
    migrations = read_migrations(str(root / schema))
    with backend.lock():
        if down:
            applied = backend.to_rollback(migrations)[:1]
            backend.rollback_migrations(applied)
        else:
            applied = backend.to_apply(migrations)
            backend.apply_migrations(applied)
    return [m.id for m in applied]


def status(settings: MySQLSettings, schema: str, root: Path = MIGRATIONS_ROOT) -> list[tuple[str, bool]]:
    """Every migration of ``schema`` and whether it is applied."""
    backend = get_backend(dataclasses.replace(settings, database=schema).url())
    migrations = read_migrations(str(root / schema))
    return [(m.id, backend.is_applied(m)) for m in migrations]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply or roll back schema migrations.")
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--schema", required=True, help="schema (folder under migrations/)")
    args = parser.parse_args(argv)
    settings = load(MySQLSettings, prefix="AFIRGEN_MYSQL")
    if args.action == "status":
        for mig_id, applied in status(settings, args.schema):
            print(f"{'applied' if applied else 'pending'}  {mig_id}")
        return 0
    done = apply(settings, args.schema, down=args.action == "down")
    verb = "rolled back" if args.action == "down" else "applied"
    print(f"{args.schema}: {verb} {len(done)} migration(s)" + (f": {', '.join(done)}" if done else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
