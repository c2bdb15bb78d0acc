"""Recompute the FIR counts (``fir_counts``) from ``firs``.

    python -m afirgen_fir.entrypoints.rebuild_counts
    python -m afirgen_fir.entrypoints.rebuild_counts --station DL-CP-01 --day 2026-11-28

Every FIR write keeps the counts in its own transaction, so they need a rebuild
only when FIRs were written around the service (a bulk load, a restore of
``firs`` alone) or ``AFIRGEN_NUMBERING_UTC_OFFSET_MINUTES`` changed (the counts'
days are local days). One station and local day (with its month and year) is
what the ``fir.rollup_stats`` job repairs; without arguments everything is
recomputed in one transaction, which holds writes back until it commits (about
a minute at a million FIRs). Connection settings come from ``AFIRGEN_MYSQL_*``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import date, timedelta

from afirgen_runtime.db import Database
from afirgen_runtime.settings import load

from afirgen_fir.adapters import count_sql
from afirgen_fir.settings import FirSettings


async def _run(settings: FirSettings, station: str | None, day: date | None) -> int:
    db = Database(settings.mysql)
    try:
        started = time.monotonic()
        offset = timedelta(minutes=settings.numbering_utc_offset_minutes)
        written = await count_sql.recount(db, offset, station, day)
        print(f"wrote {written} count rows in {time.monotonic() - started:.1f}s")
    finally:
        await db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Recompute the FIR counts from the FIRs.")
    parser.add_argument("--station", help="only this station (with --day)")
    parser.add_argument("--day", type=date.fromisoformat, help="only this local day, YYYY-MM-DD (with --station)")
    args = parser.parse_args(argv)
    if (args.station is None) != (args.day is None):
        parser.error("give both --station and --day, or neither")
    return asyncio.run(_run(load(FirSettings), args.station, args.day))


if __name__ == "__main__":
    sys.exit(main())
