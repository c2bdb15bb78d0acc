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

With ``AFIRGEN_CACHE_TARGET`` set, the cached lists, totals and statistics are
invalidated afterwards (namespaces ``fir_list`` and ``fir_stats``, and with them
every fir process's near copies): they were computed from the old counts. If the
cache service cannot be told, the command says so and exits with status 1
(running it again recounts and invalidates again).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import date, timedelta

from afirgen_runtime.cache_client import invalidate_namespaces
from afirgen_runtime.db import Database
from afirgen_runtime.settings import load

from afirgen_fir.adapters import count_sql
from afirgen_fir.adapters.cached_repository import NS_LIST, NS_STATS
from afirgen_fir.settings import FirSettings

COUNTED = (NS_LIST, NS_STATS)
"""The cache namespaces whose entries are computed from the counts."""


async def rebuild(settings: FirSettings, station: str | None = None, day: date | None = None) -> int:
    """Recount (everything, or ``station`` on local ``day``), then invalidate; the exit status."""
    db = Database(settings.mysql)
    try:
        started = time.monotonic()
        offset = timedelta(minutes=settings.numbering_utc_offset_minutes)
        written = await count_sql.recount(db, offset, station, day)
        print(f"wrote {written} count rows in {time.monotonic() - started:.1f}s")
    finally:
        await db.close()
    return await _invalidate(settings) if settings.cache.target else 0


async def _invalidate(settings: FirSettings) -> int:
    """Invalidate what was computed from the old counts; 1 when the cache service was not told."""
    if not await invalidate_namespaces(settings.cache, *COUNTED):
        print(
            f"the cache service at {settings.cache.target} could not be told: cached lists and statistics"
            " may be stale; run this command again when it is back",
            file=sys.stderr,
        )
        return 1
    print(f"invalidated the cached {' and '.join(COUNTED)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Recompute the FIR counts from the FIRs.")
    parser.add_argument("--station", help="only this station (with --day)")
    parser.add_argument("--day", type=date.fromisoformat, help="only this local day, YYYY-MM-DD (with --station)")
    args = parser.parse_args(argv)
    if (args.station is None) != (args.day is None):
        parser.error("give both --station and --day, or neither")
    return asyncio.run(rebuild(load(FirSettings), args.station, args.day))


if __name__ == "__main__":
    sys.exit(main())
