"""Search over the legal knowledge base."""

from __future__ import annotations

from afirgen_runtime.errors import InvalidArgument
from afirgen_runtime.pagination import page_size

from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.service_layer.ports import LegalRepository

MAX_QUERY = 500


class LegalService:
    """``GET /v1/legal-sections?query=``."""

    def __init__(self, repo: LegalRepository) -> None:
        self._repo = repo

    async def search(self, query: str, size: int) -> list[LegalSection]:
        """Most relevant sections first (a section number finds that section)."""
        text = " ".join(query.split())
        if not text:
            raise InvalidArgument.for_field("query", "is required, e.g. 'stolen mobile phone' or '303'")
        if len(text) > MAX_QUERY or "\x00" in text:
            raise InvalidArgument.for_field("query", f"must be at most {MAX_QUERY} characters of text")
        return await self._repo.search(text, page_size(size, default=10, maximum=50))
