"""Legal-section searches cached in the ``legal_sections`` namespace.

The knowledge base changes only through the import command, which invalidates
the whole namespace after it writes (``legal_import``); between imports the
same query always has the same answer, so results live for the namespace's
default TTL.
"""

from __future__ import annotations

import hashlib

from afirgen_runtime.cache_client import Cache
from cattrs.errors import CattrsError
from loguru import logger

from afirgen_fir.adapters.json_codec import dumps, loads
from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.service_layer.ports import LegalRepository

NS_LEGAL = "legal_sections"


class CachedLegalRepository:
    """A :class:`~afirgen_fir.service_layer.ports.LegalRepository` that caches another one."""

    def __init__(self, inner: LegalRepository, cache: Cache) -> None:
        self._inner = inner
        self._cache = cache

    async def search(self, query: str, limit: int) -> list[LegalSection]:
        """Sections most relevant to ``query``, from the cache when possible."""
        key = hashlib.sha256(f"{limit}\x00{query}".encode()).hexdigest()

        async def load() -> bytes:
            return dumps(await self._inner.search(query, limit)).encode()

        data = await self._cache.get_or_load(NS_LEGAL, key, load)
        if data is not None:
            try:
                return list(loads(data, list[LegalSection]))
            except (ValueError, TypeError, CattrsError) as exc:
                logger.warning("undecodable legal search entry: {}", type(exc).__name__)
        return await self._inner.search(query, limit)
