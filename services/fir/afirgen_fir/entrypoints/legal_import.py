"""Load the legal knowledge base.

    python -m afirgen_fir.entrypoints.legal_import --seed
    python -m afirgen_fir.entrypoints.legal_import \\
        --sections bns_sections.jsonl --schedule bns_offence_schedule.jsonl

``--seed`` loads the curated sections that ship with the service
(``afirgen_fir/data/bns_seed.jsonl``). ``--sections``/``--schedule`` load a
full statute in JSONL (Section, Title, Legal Definition; Section, Offence,
Punishment, Cognizable?, Bailable?, Triable By). Both are idempotent upserts:
a statute import refreshes texts and keeps the seed's search keywords.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from afirgen_runtime.cache_client import CacheClientSettings, invalidate_namespaces
from afirgen_runtime.db import Database
from afirgen_runtime.settings import MySQLSettings, load

from afirgen_fir.adapters.cached_legal_repository import NS_LEGAL
from afirgen_fir.adapters.legal_repository import MySQLLegalRepository
from afirgen_fir.domain.legal import LegalSection, base_section, from_statute

SEED = Path(__file__).resolve().parents[1] / "data" / "bns_seed.jsonl"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{path}:{number}: not JSON ({exc.msg})") from None
    return rows


def seed_sections() -> list[LegalSection]:
    """The curated seed."""
    return [LegalSection(**row) for row in _jsonl(SEED)]


def statute_sections(sections: Path, schedule: Path | None, act: str = "BNS") -> list[LegalSection]:
    """Sections of a statute file merged with its offence schedule."""
    by_section: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if schedule is not None:
        for row in _jsonl(schedule):
            by_section[base_section(str(row.get("Section", "")))].append(row)
    result = []
    for row in _jsonl(sections):
        if "Section" not in row or "Title" not in row:
            raise SystemExit(f"{sections}: every row needs Section and Title")
        number = base_section(str(row["Section"]))
        result.append(from_statute({**row, "Section": number}, by_section.get(number, []), act))
    return result


async def run(settings: MySQLSettings, args: argparse.Namespace) -> int:
    db = Database(settings)
    repo = MySQLLegalRepository(db)
    try:
        if args.seed:
            print(f"seed: {await repo.upsert(seed_sections(), 'seed')} sections")
        if args.sections:
            loaded = statute_sections(Path(args.sections), Path(args.schedule) if args.schedule else None, args.act)
            print(f"{args.sections}: {await repo.upsert(loaded, 'import')} sections")
        print(f"knowledge base: {await repo.count()} sections")
        await _invalidate_cached_searches()
    finally:
        await db.close()
    return 0


async def _invalidate_cached_searches() -> None:
    """Cached search results are stale now (``AFIRGEN_CACHE_TARGET``; nothing without one)."""
    settings = load(CacheClientSettings, prefix="AFIRGEN_CACHE")
    if not settings.target:
        return
    if not await invalidate_namespaces(settings, NS_LEGAL):
        print(f"cache not reachable: cached searches expire within the {NS_LEGAL} namespace TTL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load the legal knowledge base.")
    parser.add_argument("--seed", action="store_true", help="load the curated seed that ships with the service")
    parser.add_argument("--sections", help="statute JSONL: Section, Title, Legal Definition")
    parser.add_argument("--schedule", help="offence schedule JSONL: Section, Offence, Punishment, ...")
    parser.add_argument("--act", default="BNS", help="act code of the statute file (default BNS)")
    args = parser.parse_args(argv)
    if not args.seed and not args.sections:
        parser.error("give --seed and/or --sections")
    return asyncio.run(run(load(MySQLSettings, prefix="AFIRGEN_MYSQL"), args))


if __name__ == "__main__":
    sys.exit(main())
