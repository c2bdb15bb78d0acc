"""Cache-aside in front of the FIR repository, with invalidation on every write.

Reads go through the cache service (namespaces ``fir``, ``fir_list``,
``fir_stats``); every write goes to the wrapped repository and then, before it
returns (so before the client gets its answer), makes stale exactly what it
may have changed: the FIR's own entry and the list and statistics namespaces
(any write can move an FIR in or out of any page and change any count). A
write that fails still invalidates: it may have committed before failing.

GetFir entries hold the whole FIR, whatever read mask the reader sent, and
the servicer trims the answer to the mask: one entry serves every mask, and
one delete makes every mask's view stale. (Keying by id and mask would need
one entry per mask and a way to find them all on write.)

Finalized FIRs never change: they are cached for ``finalized_ttl`` and kept in
a small in-process LRU as well, so re-reading them costs no network call.

Every write path, present and future (generation, regeneration, job handlers),
must go through :meth:`CachedFirRepository.create` / :meth:`modify` or call
:meth:`CachedFirRepository.invalidate_fir` itself.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from afirgen_runtime.cache_client import Cache, Fill
from loguru import logger

from afirgen_fir.adapters.fir_codec import (
    CodecError,
    decode_count,
    decode_fir,
    decode_page,
    decode_stats,
    encode_count,
    encode_fir,
    encode_page,
    encode_stats,
)
from afirgen_fir.domain.counts import local_day
from afirgen_fir.domain.model import Fir, FirStatus
from afirgen_fir.domain.queries import FirFilter, ListQuery
from afirgen_fir.service_layer.ports import FirCounts, FirEvent, FirRepository, IdempotencyKey

NS_FIR = "fir"
NS_LIST = "fir_list"
NS_STATS = "fir_stats"
T = TypeVar("T")


def _digest(*parts: object) -> str:
    """A stable key for query parameters (reprs of frozen dataclasses, enums, datetimes)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


class CachedFirRepository:
    """A :class:`~afirgen_fir.service_layer.ports.FirRepository` that caches another one."""

    def __init__(
        self,
        inner: FirRepository,
        cache: Cache,
        *,
        utc_offset: timedelta,
        finalized_ttl: float = 86400.0,
        local_entries: int = 1024,
    ) -> None:
        self._inner = inner
        self._cache = cache
        self._utc_offset = utc_offset
        """Local time of the statistics' days (the FIR numbering offset)."""
        self._finalized_ttl = finalized_ttl
        self._local: OrderedDict[str, bytes] = OrderedDict()
        self._local_max = local_entries

    # --- the invalidation hook -----------------------------------------------------
    async def invalidate_fir(self, fir_id: str | None) -> None:
        """Make stale what a write to ``fir_id`` (``None``: a new FIR) may have changed."""
        if fir_id:
            self._local.pop(fir_id, None)
        await asyncio.gather(
            self._cache.delete(NS_FIR, fir_id) if fir_id else asyncio.sleep(0),
            self._cache.invalidate(NS_LIST),
            self._cache.invalidate(NS_STATS),
        )

    # --- writes ------------------------------------------------------------------
    async def create(self, fir: Fir, **kwargs: Any) -> tuple[Fir, bool]:
        """Create through the wrapped repository, then invalidate lists and statistics."""
        try:
            return await self._inner.create(fir, **kwargs)
        finally:
            await self.invalidate_fir(None)

    async def modify(self, fir_id: str, mutate: Callable[[Fir], list[str]], **kwargs: Any) -> Fir:
        """Change through the wrapped repository, then invalidate the FIR, lists and statistics."""
        try:
            return await self._inner.modify(fir_id, mutate, **kwargs)
        finally:
            await self.invalidate_fir(fir_id)

    # --- reads -------------------------------------------------------------------
    async def get(self, fir_id: str, fields: frozenset[str] = frozenset()) -> Fir | None:
        """The whole FIR (a superset of ``fields``), from the cache when possible."""
        data = self._local.get(fir_id)
        if data is not None:
            self._local.move_to_end(fir_id)
        else:
            data = await self._cache.get_or_load(NS_FIR, fir_id, lambda: self._load_fir(fir_id))
            if data is None:
                return None
        try:
            fir = decode_fir(data)
        except CodecError:
            logger.warning("undecodable FIR cache entry; reading the database")
            return await self._inner.get(fir_id, fields)
        if fir.status is FirStatus.FINALIZED:
            self._remember_finalized(fir_id, data)
        return fir

    async def _load_fir(self, fir_id: str) -> Fill | None:
        fir = await self._inner.get(fir_id)  # whole: one entry serves every read mask
        if fir is None:
            return None  # not cached: ids are server-made, a miss here is rare
        ttl = self._finalized_ttl if fir.status is FirStatus.FINALIZED else None
        return Fill(encode_fir(fir), ttl)

    def _remember_finalized(self, fir_id: str, data: bytes) -> None:
        self._local[fir_id] = data
        self._local.move_to_end(fir_id)
        while len(self._local) > self._local_max:
            self._local.popitem(last=False)

    async def _cached(
        self,
        namespace: str,
        key: str,
        load: Callable[[], Awaitable[T]],
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> T:
        async def loader() -> bytes:
            return encode(await load())

        data = await self._cache.get_or_load(namespace, key, loader)
        if data is not None:
            try:
                return decode(data)
            except CodecError:
                logger.warning("undecodable cache entry; reading the database", namespace=namespace)
        return await load()

    async def list_page(self, query: ListQuery) -> tuple[list[Fir], tuple[str, int] | None]:
        """A page, from the cache when possible."""
        key = "page:" + _digest(
            query.filter, query.order_field, query.descending, query.page_size, query.after, sorted(query.fields)
        )
        return await self._cached(
            NS_LIST, key, lambda: self._inner.list_page(query), lambda page: encode_page(*page), decode_page
        )

    async def count(self, flt: FirFilter) -> int:
        """A total, from the cache when possible."""
        return await self._cached(
            NS_LIST, "count:" + _digest(flt), lambda: self._inner.count(flt), encode_count, decode_count
        )

    async def stats(self, flt: FirFilter, days: int, now: datetime) -> FirCounts:
        """Statistics, from the cache (short TTL) when possible."""
        key = _digest(flt, days, local_day(now, self._utc_offset))
        return await self._cached(NS_STATS, key, lambda: self._inner.stats(flt, days, now), encode_stats, decode_stats)

    async def events(self, fir_id: str, after_pk: int, limit: int) -> list[FirEvent]:
        """The audit trail, never cached."""
        return await self._inner.events(fir_id, after_pk, limit)

    async def find_by_idempotency_key(self, key: IdempotencyKey) -> Fir | None:
        """Idempotency lookups go to the database (they guard against double writes)."""
        return await self._inner.find_by_idempotency_key(key)

    async def ping(self) -> bool:
        """Readiness of the wrapped repository (the cache is optional)."""
        return await self._inner.ping()
