"""The legal knowledge base in MySQL (table ``legal_sections``, FULLTEXT searched)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from afirgen_runtime.db import Connection, Database, Statement

from afirgen_fir.domain.legal import LegalSection, section_lookup

_COLUMNS = "act, section, title, description, punishment, cognizable, bailable, triable_by, keywords"

UPSERT = Statement(
    "legal.upsert",
    "INSERT INTO legal_sections (act, section, title, description, punishment, cognizable, bailable, triable_by,"
    " keywords, source, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON DUPLICATE KEY UPDATE title = VALUES(title),"
    " description = IF(VALUES(description) = '', description, VALUES(description)),"
    " punishment = IF(VALUES(punishment) = '', punishment, VALUES(punishment)),"
    " cognizable = COALESCE(VALUES(cognizable), cognizable), bailable = COALESCE(VALUES(bailable), bailable),"
    " triable_by = IF(VALUES(triable_by) = '', triable_by, VALUES(triable_by)),"
    " keywords = IF(VALUES(keywords) = '', keywords, VALUES(keywords)),"
    " source = VALUES(source), updated_at = VALUES(updated_at)",
)
SEARCH = Statement(
    "legal.search",
    f"SELECT {_COLUMNS}, MATCH (title, description, keywords) AGAINST (%s IN NATURAL LANGUAGE MODE) AS score"
    " FROM legal_sections WHERE MATCH (title, description, keywords) AGAINST (%s IN NATURAL LANGUAGE MODE)"
    " ORDER BY score DESC, act, section LIMIT %s",
)
BY_SECTION = Statement(
    "legal.get_section",
    f"SELECT {_COLUMNS}, 1 AS score FROM legal_sections WHERE section = %s ORDER BY act LIMIT %s",
)
BY_ACT_SECTION = Statement(
    "legal.get_act_section",
    f"SELECT {_COLUMNS}, 1 AS score FROM legal_sections WHERE act = %s AND section = %s LIMIT %s",
)
COUNT = Statement("legal.count", "SELECT COUNT(*) FROM legal_sections")


def _row(row: Sequence[object]) -> LegalSection:
    act, section, title, description, punishment, cognizable, bailable, triable_by, keywords, score = row
    return LegalSection(
        act=str(act),
        section=str(section),
        title=str(title),
        description=str(description),
        punishment=str(punishment),
        cognizable=None if cognizable is None else bool(cognizable),
        bailable=None if bailable is None else bool(bailable),
        triable_by=str(triable_by),
        keywords=str(keywords),
        score=float(score),  # type: ignore[arg-type]
    )


class MySQLLegalRepository:
    """Search and bulk upsert of legal sections."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def search(self, query: str, limit: int) -> list[LegalSection]:
        """Exact section lookups first, then FULLTEXT relevance."""
        lookup = section_lookup(query)
        if lookup is not None:
            act, number = lookup
            if act:
                rows = await self._db.fetch_all(BY_ACT_SECTION, (act, number, limit))
            else:
                rows = await self._db.fetch_all(BY_SECTION, (number, limit))
            if rows:
                return [_row(r) for r in rows]
        rows = await self._db.fetch_all(SEARCH, (query, query, limit))
        return [_row(r) for r in rows]

    async def upsert(self, sections: Iterable[LegalSection], source: str) -> int:
        """Insert or refresh sections (empty fields keep what is stored)."""
        now = datetime.now(UTC).replace(tzinfo=None)
        rows = [
            (
                s.act,
                s.section,
                s.title[:300],
                s.description,
                s.punishment,
                s.cognizable,
                s.bailable,
                s.triable_by[:200],
                s.keywords,
                source,
                now,
            )
            for s in sections
        ]

        async def work(conn: Connection) -> int:
            for start in range(0, len(rows), 200):
                await conn.execute_many(UPSERT, rows[start : start + 200])
            return len(rows)

        return await self._db.run(work, transaction=True)

    async def count(self) -> int:
        """Sections stored."""
        row = await self._db.fetch_one(COUNT)
        return int(row[0]) if row else 0
