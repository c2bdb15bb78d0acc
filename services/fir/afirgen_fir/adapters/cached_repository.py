"""Cache-aside in front of the FIR repository, with invalidation on every write.

Reads go through the cache service (namespaces ``fir``, ``fir_list``,
``fir_stats``); every write goes to the wrapped repository and then, before it
returns (so before the client gets its answer), makes stale what it may have
changed: the FIR's own entry, and the lists, totals and statistics of the
scopes it touched (its station, its district and every FIR, for the statuses
it had and has: :mod:`~afirgen_fir.adapters.cache_scopes`). A write that fails
still invalidates, whole namespaces then (it may have committed before failing,
and what it touched is unknown).

GetFir entries hold the whole FIR, whatever read mask the reader sent, as the
serialized message GetFir answers behind a small header (status, etag, station,
district: :mod:`~afirgen_fir.adapters.fir_codec`). A hit is answered from those
bytes (:meth:`CachedFirRepository.get_serialized`): the reader's scope is checked
on the header and the message goes out as it is, never decoded into the domain
FIR and mapped back. One entry serves every mask, and one delete makes every
mask's view stale. (Keying by id and mask would need one entry per mask and a
way to find them all on write.)

In front of the cache service sits a near cache in this process
(:class:`~afirgen_runtime.near_cache.NearCache`). Finalized FIRs never change:
they are kept as immutable entries, served whatever the state of the feed.
Drafts are kept as mutable entries, served only while the cache service's
invalidation feed is live, so a draft another process changed is dropped here
within the near cache's staleness bound. The writer's own process drops its
entry before it answers, and the edge sends every REST call of one FIR to the
replica its id hashes to (scripts/devstack/edge.py, ``ONE_FIR``): a client's
read after its edit is answered by the replica that made the edit. The feed
also keeps the near cache's list and statistics tokens.

List pages, totals and statistics are kept in this process too, as the cache
service holds them: their keys carry their scope's token, which every write in
scope replaces. Pages and totals are immutable entries; statistics are mutable
ones, fed by the ``fir_stats`` namespace's events, so an operator's invalidation
of the namespace (after the counts were rebuilt) reaches them. A statistics hit
is the serialized ``FirStats`` message GetFirStats answers, sent as it is.

Every write path, present and future (generation, regeneration, job handlers),
must go through :meth:`CachedFirRepository.create` / :meth:`modify` or call
:meth:`CachedFirRepository.invalidate_fir` itself.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from afirgen_runtime.cache_client import Cache, Fill
from afirgen_runtime.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from afirgen_runtime.near_cache import NearCache, NearCacheSettings
from loguru import logger

from afirgen_fir.adapters.cache_scopes import Generations, scope_of, scopes_changed_by
from afirgen_fir.adapters.fir_codec import (
    CodecError,
    check_stats,
    decode_count,
    decode_fir_message,
    decode_page,
    decode_page_serialized,
    decode_serialized,
    decode_stats,
    encode_count,
    encode_fir,
    encode_page,
    encode_stats,
)
from afirgen_fir.domain.counts import local_day
from afirgen_fir.domain.model import Fir, FirStatus
from afirgen_fir.domain.queries import FirFilter, ListQuery
from afirgen_fir.service_layer.ports import FirCounts, FirEvent, FirRepository, IdempotencyKey, SerializedFir

REFUSED = (InvalidArgument, NotFound, PermissionDenied, FailedPrecondition, Aborted, Unauthenticated)
"""What a write's own checks raise before it writes anything (the repository rolls back)."""
NS_FIR = "fir"
NS_LIST = "fir_list"
NS_STATS = "fir_stats"
NS_LIST_PAGES = "fir_list_pages"
"""The near cache of list pages and totals (entries of the cache service's ``fir_list``)."""
KEPT_DIGESTS = 1024
"""Queries and filters whose cache-key digests are kept (least recently used out)."""
T = TypeVar("T")


def _digest(*parts: object) -> str:
    """A stable key for query parameters (reprs of frozen dataclasses, enums, datetimes)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _as_is(data: bytes) -> bytes:
    """An entry kept in the form it is sent in."""
    return data


@functools.lru_cache(maxsize=KEPT_DIGESTS)
def _page_digest(query: ListQuery) -> str:
    """The key of a page within its scope (kept: a page read again is not digested again)."""
    return _digest(
        query.filter, query.order_field, query.descending, query.page_size, query.after, sorted(query.fields)
    )


@functools.lru_cache(maxsize=KEPT_DIGESTS)
def _count_digest(flt: FirFilter) -> str:
    """The key of a total within its scope (kept, as :func:`_page_digest`)."""
    return _digest(flt)


@functools.lru_cache(maxsize=KEPT_DIGESTS)
def _stats_digest(flt: FirFilter, days: int, day: date) -> str:
    """The key of statistics within their scope (kept, as :func:`_page_digest`)."""
    return _digest(flt, days, day)


class CachedFirRepository:
    """A :class:`~afirgen_fir.service_layer.ports.FirRepository` that caches another one."""

    def __init__(
        self,
        inner: FirRepository,
        cache: Cache,
        *,
        utc_offset: timedelta,
        finalized_ttl: float = 86400.0,
        near: NearCache[SerializedFir] | None = None,
        generations: NearCache[str] | None = None,
        pages: NearCache[bytes] | None = None,
        stats: NearCache[bytes] | None = None,
    ) -> None:
        self._inner = inner
        self._cache = cache
        self._utc_offset = utc_offset
        """Local time of the statistics' days (the FIR numbering offset)."""
        self._finalized_ttl = finalized_ttl
        self.near = near if near is not None else NearCache(NS_FIR, NearCacheSettings())
        """Whole FIRs in this process; the composition root lets the cache's feed keep it coherent."""
        self.generations = Generations(
            cache, generations if generations is not None else NearCache(NS_LIST, NearCacheSettings())
        )
        """The tokens of list and statistics scopes (their near cache follows the feed too)."""
        self.pages = pages if pages is not None else NearCache(NS_LIST_PAGES, NearCacheSettings())
        """List pages and totals as the cache service holds them. Their keys carry their scope's
        token, which a write in scope replaces: an entry never changes, so it is kept immutable
        and needs no feed."""
        self.near_stats = stats if stats is not None else NearCache(NS_STATS, NearCacheSettings())
        """Statistics as the cache service holds them, keyed as there (by their scope's token). Kept
        mutable, and the composition root lets the feed keep them: a ``fir_stats`` namespace
        invalidation drops them all."""
        self._copies: dict[str, tuple[NearCache[bytes], bool]] = {
            NS_LIST: (self.pages, True),
            NS_STATS: (self.near_stats, False),
        }
        """The near copy of a namespace's entries, and whether they are kept immutable."""

    # --- the invalidation hook -----------------------------------------------------
    async def invalidate_fir(self, fir_id: str | None, written: Fir | None = None) -> None:
        """Make stale what a write to ``fir_id`` (``None``: a new FIR) may have changed: with the FIR
        as ``written``, its entry and the scopes it touched; without it, whole namespaces."""
        scopes = [] if written is None else scopes_changed_by(written, {FirStatus.DRAFT, written.status})
        self._forget(fir_id, scopes)
        if written is None:
            await asyncio.gather(
                self._cache.delete(NS_FIR, fir_id) if fir_id else asyncio.sleep(0),
                self._cache.invalidate(NS_LIST),
                self._cache.invalidate(NS_STATS),
            )
        else:
            await asyncio.gather(
                self._cache.delete(NS_FIR, fir_id) if fir_id else asyncio.sleep(0),
                self.generations.invalidate(scopes),
            )
        # A read of this process that began between the first drop and the delete may have kept
        # the old entry: the writer must read its own write from here on.
        self._forget(fir_id, scopes)

    def _forget(self, fir_id: str | None, scopes: list[str]) -> None:
        if fir_id:
            self.near.drop(fir_id)
        if scopes:
            self.generations.forget(scopes)
        else:
            self.generations.near.clear()

    # --- writes ------------------------------------------------------------------
    async def create(self, fir: Fir, **kwargs: Any) -> tuple[Fir, bool]:
        """Create through the wrapped repository, then invalidate the new FIR's scopes."""
        try:
            created, fresh = await self._inner.create(fir, **kwargs)
        except BaseException:
            await self.invalidate_fir(None)
            raise
        await self.invalidate_fir(None, created)
        return created, fresh

    async def modify(self, fir_id: str, mutate: Callable[[Fir], list[str]], **kwargs: Any) -> Fir:
        """Change through the wrapped repository (drafts only: it was a DRAFT before), then
        invalidate the FIR and its scopes."""
        try:
            changed = await self._inner.modify(fir_id, mutate, **kwargs)
        except REFUSED:
            # Refused before anything was written (a stale etag, a finalized FIR, no right to
            # change it...): only the FIR's own entry goes, as a reader may have cached it stale.
            self.near.drop(fir_id)
            await self._cache.delete(NS_FIR, fir_id)
            raise
        except BaseException:
            await self.invalidate_fir(fir_id)
            raise
        await self.invalidate_fir(fir_id, changed)
        return changed

    # --- reads -------------------------------------------------------------------
    async def get(self, fir_id: str, fields: frozenset[str] = frozenset()) -> Fir | None:
        """The whole FIR (a superset of ``fields``), from the cache when possible."""
        found = await self.get_serialized(fir_id)
        if found is None:
            return None
        try:
            fir = decode_fir_message(found)
        except CodecError:
            logger.warning("undecodable FIR cache entry; reading the database")
            return await self._inner.get(fir_id, fields)
        return fir

    async def get_serialized(self, fir_id: str) -> SerializedFir | None:
        """The whole FIR as GetFir sends it: the near cache, else the cache service, else the database."""
        found = self.near.get(fir_id)
        if found is not None:
            return found
        epoch = self.near.epoch
        data = await self._cache.get_or_load(NS_FIR, fir_id, lambda: self._load_fir(fir_id))
        if data is None:
            return None
        try:
            found = decode_serialized(fir_id, data)
        except CodecError:
            logger.warning("undecodable FIR cache entry; reading the database")
            fir = await self._inner.get(fir_id)
            return None if fir is None else decode_serialized(fir_id, encode_fir(fir))
        self.near.put(fir_id, found, epoch, immutable=found.status is FirStatus.FINALIZED, size=len(found.data))
        return found

    async def _load_fir(self, fir_id: str) -> Fill | None:
        fir = await self._inner.get(fir_id)  # whole: one entry serves every read mask
        if fir is None:
            return None  # not cached: ids are server-made, a miss here is rare
        ttl = self._finalized_ttl if fir.status is FirStatus.FINALIZED else None
        return Fill(encode_fir(fir), ttl)

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

        data = await self._entry(namespace, key, loader)
        if data is not None:
            try:
                return decode(data)
            except CodecError:
                logger.warning("undecodable cache entry; reading the database", namespace=namespace)
        return await load()

    async def _page_key(self, query: ListQuery) -> str:
        token = await self.generations.token(scope_of(query.filter))
        return f"{token}:page:" + _page_digest(query)

    async def list_page(self, query: ListQuery) -> tuple[list[Fir], tuple[str, int] | None]:
        """A page, from the cache when possible."""
        return await self._cached(
            NS_LIST,
            await self._page_key(query),
            lambda: self._inner.list_page(query),
            lambda page: encode_page(*page),
            decode_page,
        )

    async def list_page_serialized(self, query: ListQuery) -> tuple[bytes, tuple[str, int] | None]:
        """A page as ListFirs sends its FIRs, from the cache when possible (never decoded on a hit)."""

        async def load() -> bytes:
            return encode_page(*await self._inner.list_page(query))

        data = await self._entry(NS_LIST, await self._page_key(query), load)
        if data is not None:
            try:
                return decode_page_serialized(data)
            except CodecError:
                logger.warning("undecodable cache entry; reading the database", namespace=NS_LIST)
        return decode_page_serialized(await load())

    async def count(self, flt: FirFilter) -> int:
        """A total, from the cache when possible."""
        token = await self.generations.token(scope_of(flt))
        key = f"{token}:count:" + _count_digest(flt)
        return await self._cached(NS_LIST, key, lambda: self._inner.count(flt), encode_count, decode_count)

    async def _entry(self, namespace: str, key: str, load: Callable[[], Awaitable[bytes]]) -> bytes | None:
        """An entry of the cache service; a ``fir_list`` or ``fir_stats`` entry (a page, a total,
        statistics) from this process's copy first: its key carries its scope's token."""
        copy = self._copies.get(namespace)
        if copy is None:
            return await self._cache.get_or_load(namespace, key, load)
        near, immutable = copy
        found = near.get(key)
        if found is not None:
            return found
        epoch = near.epoch
        data = await self._cache.get_or_load(namespace, key, load)
        if data is not None:
            near.put(key, data, epoch, immutable=immutable, size=len(data))
        return data

    async def stats(self, flt: FirFilter, days: int, now: datetime) -> FirCounts:
        """Statistics, from the cache (short TTL) when possible."""
        return decode_stats(await self.stats_serialized(flt, days, now))

    async def stats_serialized(self, flt: FirFilter, days: int, now: datetime) -> bytes:
        """Statistics as GetFirStats sends them, from the cache when possible (never decoded on a hit)."""
        token = await self.generations.token(scope_of(flt))
        key = f"{token}:" + _stats_digest(flt, days, local_day(now, self._utc_offset))

        async def load() -> bytes:
            return encode_stats(await self._inner.stats(flt, days, now))

        return await self._cached(NS_STATS, key, load, _as_is, check_stats)

    async def events(self, fir_id: str, after_pk: int, limit: int) -> list[FirEvent]:
        """The audit trail, never cached."""
        return await self._inner.events(fir_id, after_pk, limit)

    async def find_by_idempotency_key(self, key: IdempotencyKey) -> Fir | None:
        """Idempotency lookups go to the database (they guard against double writes)."""
        return await self._inner.find_by_idempotency_key(key)

    async def ping(self) -> bool:
        """Readiness of the wrapped repository (the cache is optional)."""
        return await self._inner.ping()
