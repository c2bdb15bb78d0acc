"""Use cases of the FIR records service."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass

from afirgen_runtime.errors import FailedPrecondition, InvalidArgument
from afirgen_runtime.identity import Caller
from afirgen_runtime.ids import check_id, check_idempotency_key
from afirgen_runtime.pagination import PageTokens, page_size

from afirgen_fir.domain import access, validation
from afirgen_fir.domain.errors import FirFinalized, FirNotFound, StaleEtag
from afirgen_fir.domain.model import EDITABLE_FIELDS, ComplaintSource, Fir, FirStatus, etag_for
from afirgen_fir.domain.queries import FirFilter, ListQuery, parse_fir_filter, parse_order
from afirgen_fir.service_layer.ports import (
    Change,
    Clock,
    FirCounts,
    FirEvent,
    FirRepository,
    IdempotencyKey,
    SerializedFir,
    SerializedFirs,
    SerializedPage,
)

FIR_ID = "an FIR id"
KEPT_QUERIES = 1024
"""List requests whose parsed query, and page tokens whose text, are kept (least recently used out):
the same request makes the same query, and the same keyset the same token, so a page read again
is not parsed, digested, checked and signed again (about a tenth of fir's time on a cached page)."""
DEFAULT_EVENTS_PAGE = 100
MAX_STATS_DAYS = 366


@dataclass(frozen=True)
class ListRequest:
    """One page of ListFirs as the client asks for it, before it is parsed and checked."""

    page_size: int = 0
    """FIRs per page (0: the default size; capped at the largest)."""
    page_token: str = ""
    """The previous page's ``next_page_token``; empty for the first page."""
    filter: str = ""
    """Conditions in the API's filter language (``station = "PS-1" AND status = DRAFT``)."""
    order_by: str = ""
    """``create_time desc`` (the default), ``create_time asc``, ``update_time desc`` or ``update_time asc``."""
    fields: frozenset[str] = frozenset()
    """Top-level fields to load (the read mask); empty means all."""


@dataclass(frozen=True)
class FirPage:
    """One page of ListFirs."""

    firs: list[Fir]
    next_page_token: str
    total_size: int


def _ensure_editable(fir: Fir, etag: str) -> None:
    if fir.status is FirStatus.FINALIZED:
        raise FirFinalized("the FIR is finalized and can no longer change")
    if etag != fir.etag:
        raise StaleEtag(
            "the FIR changed since it was read (etag mismatch); re-read it and retry",
            metadata={"current_etag": fir.etag},
        )


class FirService:
    """FIR records: create, read, list, edit, finalize, statistics, audit."""

    def __init__(
        self, repo: FirRepository, tokens: PageTokens, clock: Clock, serialized: SerializedFirs | None = None
    ) -> None:
        self._repo = repo
        self._tokens = tokens
        self._clock = clock
        self._serialized = serialized
        self._query_of = functools.lru_cache(maxsize=KEPT_QUERIES)(self._parse_query)
        self._token_of = functools.lru_cache(maxsize=KEPT_QUERIES)(self._tokens.issue)

    async def create(
        self,
        fir: Fir,
        *,
        change: Change,
        idempotency: IdempotencyKey | None = None,
        action: str = "CREATED",
    ) -> tuple[Fir, bool]:
        """Validate and store a new DRAFT for the caller's station; ``(fir, created)``."""
        fir.id = ""
        fir.status = FirStatus.DRAFT
        if fir.complaint.source is ComplaintSource.UNSPECIFIED:
            fir.complaint.source = ComplaintSource.MANUAL
        validation.ensure_valid(fir, self._clock())
        caller = access.ensure_may_create(change.caller, fir.station.code)
        fir.station.district = access.district_of_new_fir(caller, fir.station.district)
        if idempotency is not None:
            check_idempotency_key(idempotency.key, "request_id")
        return await self._repo.create(fir, action=action, idempotency=idempotency, change=change)

    async def get(self, fir_id: str, fields: frozenset[str] = frozenset(), *, caller: Caller | None) -> Fir:
        """One FIR the caller may read (``fields``: top-level fields to load, all when empty).

        An FIR outside the caller's scope is NOT_FOUND, as if it did not exist."""
        scope = access.read_scope(caller)
        fir = await self._repo.get(check_id(fir_id, FIR_ID), fields | {"station"} if fields else fields)
        if fir is None or not scope.covers(fir):
            raise FirNotFound("no FIR with this id")
        return fir

    async def get_serialized(self, fir_id: str, *, caller: Caller | None) -> SerializedFir | None:
        """One whole FIR the caller may read, in its wire form; ``None`` when this service keeps
        no such form (no cache), and the caller reads through :meth:`get`.

        The caller's scope is checked on the station and district kept beside the bytes:
        out of scope is NOT_FOUND, as in :meth:`get`."""
        if self._serialized is None:
            return None
        scope = access.read_scope(caller)
        found = await self._serialized.get_serialized(check_id(fir_id, FIR_ID))
        if found is None or not scope.covers_station(found.station, found.district):
            raise FirNotFound("no FIR with this id")
        return found

    async def visible(self, fir: Fir | None, caller: Caller | None) -> Fir | None:
        """``fir`` when the caller may read it, else ``None`` (an idempotent repeat of another's request)."""
        return fir if fir is not None and access.read_scope(caller).covers(fir) else None

    def _list_query(self, asked: ListRequest, caller: Caller | None) -> tuple[ListQuery | None, str]:
        """The page query the caller may run (``None``: nothing can match) and its token digest."""
        return self._query_of(asked, access.read_scope(caller))

    def _parse_query(self, asked: ListRequest, scope: access.Scope) -> tuple[ListQuery | None, str]:
        """:meth:`_list_query` for a scope; the same request and scope always make the same
        answer, or the same error (errors are not kept)."""
        flt = parse_fir_filter(asked.filter)
        order_field, descending = parse_order(asked.order_by)
        limit = page_size(asked.page_size)
        digest = PageTokens.query_digest("firs", flt, scope, order_field, descending)
        keyset = self._tokens.resume(asked.page_token, digest, str, int)
        after = None if keyset is None else (keyset[0], keyset[1])
        allowed = access.restrict(flt, scope)
        if allowed is None:  # another station's FIRs: as if there were none
            return None, digest
        return ListQuery(allowed, order_field, descending, limit, after, asked.fields), digest

    def _next_token(self, digest: str, next_key: tuple[str, int] | None) -> str:
        return self._token_of(digest, next_key) if next_key else ""

    async def list_firs(self, asked: ListRequest, *, caller: Caller | None) -> FirPage:
        """A keyset page of the FIRs the caller may read; tokens are bound to the filter and order."""
        query, digest = self._list_query(asked, caller)
        if query is None:
            return FirPage([], "", 0)
        firs, next_key = await self._repo.list_page(query)
        total = await self._repo.count(query.filter)
        return FirPage(firs, self._next_token(digest, next_key), total)

    async def list_serialized(self, asked: ListRequest, *, caller: Caller | None) -> SerializedPage | None:
        """:meth:`list_firs` with the page in its wire form; ``None`` when this service keeps no
        such form (no cache), and the caller lists through :meth:`list_firs`."""
        if self._serialized is None:
            return None
        query, digest = self._list_query(asked, caller)
        if query is None:
            return SerializedPage(b"", "", 0)
        (data, next_key), total = await asyncio.gather(
            self._serialized.list_page_serialized(query), self._repo.count(query.filter)
        )
        return SerializedPage(data, self._next_token(digest, next_key), total)

    async def update(
        self,
        fir_id: str,
        etag: str,
        paths: list[str],
        apply: Callable[[Fir], Fir],
        *,
        change: Change,
        action: str = "UPDATED",
    ) -> Fir:
        """Officer edit of a DRAFT: ``apply`` returns the FIR with the masked fields replaced."""
        fir_id = check_id(fir_id, FIR_ID, "fir.id")
        if not etag:
            raise InvalidArgument.for_field("fir.etag", "is required: send the etag of the FIR you edited")
        if not paths:
            raise InvalidArgument.for_field("update_mask", "is required: name the fields to change")
        top = sorted({p.split(".", 1)[0] for p in paths})
        bad = [p for p in top if p not in EDITABLE_FIELDS]
        if bad:
            raise InvalidArgument.for_field(
                "update_mask",
                f"cannot change {', '.join(bad)}; editable: {', '.join(sorted(EDITABLE_FIELDS))}",
            )
        now = self._clock()

        def mutate(current: Fir) -> list[str]:
            self._in_scope(current, change.caller)
            access.ensure_may_edit(change.caller, current)
            _ensure_editable(current, etag)
            edited = apply(current)
            validation.ensure_valid(edited, now)
            changed = [name for name in top if getattr(edited, name) != getattr(current, name)]
            for name in changed:
                setattr(current, name, getattr(edited, name))
            return changed

        return await self._repo.modify(fir_id, mutate, action=action, change=change)

    async def finalize(self, fir_id: str, etag: str, *, change: Change) -> Fir:
        """DRAFT -> FINALIZED, after which the FIR never changes.

        Idempotent: a repeat with the etag that was finalized (the revision just before the
        finalized one) answers the finalized FIR and changes nothing, so a client, or the edge,
        may repeat a finalization whose answer it lost."""
        fir_id = check_id(fir_id, FIR_ID)
        if not etag:
            raise InvalidArgument.for_field("etag", "is required: send the etag of the FIR you reviewed")
        now = self._clock()

        def mutate(current: Fir) -> list[str]:
            self._in_scope(current, change.caller)
            access.ensure_may_finalize(change.caller, current)
            if current.status is FirStatus.FINALIZED and etag == etag_for(current.id, current.revision - 1):
                return []  # this very finalization, asked again
            _ensure_editable(current, etag)
            if not current.summary.strip() and not current.narrative.strip():
                raise FailedPrecondition("an FIR needs a summary or a narrative before it is finalized")
            current.status = FirStatus.FINALIZED
            current.finalize_time = now
            return ["status", "finalize_time"]

        return await self._repo.modify(fir_id, mutate, action="FINALIZED", change=change)

    async def stats(self, filter_text: str, days: int, *, caller: Caller | None) -> FirCounts:
        """Aggregates over the FIRs the caller may read, computed by SQL GROUP BY."""
        flt, days = self._stats_query(filter_text, days, caller)
        if flt is None:
            return FirCounts(0, [], [], [], [])
        return await self._repo.stats(flt, days, self._clock())

    async def stats_serialized(self, filter_text: str, days: int, *, caller: Caller | None) -> bytes | None:
        """:meth:`stats` in its wire form; ``None`` when this service keeps no such form (no cache),
        and the caller reads through :meth:`stats`."""
        if self._serialized is None:
            return None
        flt, days = self._stats_query(filter_text, days, caller)
        if flt is None:
            return b""  # no statistics: every field of the message is zero or empty
        return await self._serialized.stats_serialized(flt, days, self._clock())

    @staticmethod
    def _stats_query(filter_text: str, days: int, caller: Caller | None) -> tuple[FirFilter | None, int]:
        """The filter the caller may count (``None``: nothing can match) and the days of ``by_day``."""
        scope = access.read_scope(caller)
        flt = access.restrict(parse_fir_filter(filter_text, allow_section=False), scope)
        if days < 0 or days > MAX_STATS_DAYS:
            raise InvalidArgument.for_field("days", f"must be between 0 and {MAX_STATS_DAYS}")
        return flt, days or 30

    async def events(self, fir_id: str, size: int, token: str, *, caller: Caller | None) -> tuple[list[FirEvent], str]:
        """Audit trail page of an FIR the caller may read, oldest first."""
        fir_id = (await self.get(fir_id, frozenset({"station"}), caller=caller)).id
        limit = page_size(size, default=DEFAULT_EVENTS_PAGE)
        digest = PageTokens.query_digest("events", fir_id)
        keyset = self._tokens.resume(token, digest, int)
        after = 0 if keyset is None else keyset[0]
        events = await self._repo.events(fir_id, after, limit + 1)
        next_token = self._tokens.issue(digest, [events[limit - 1].event_pk]) if len(events) > limit else ""
        return events[:limit], next_token

    @staticmethod
    def _in_scope(fir: Fir, caller: Caller | None) -> None:
        if not access.read_scope(caller).covers(fir):
            raise FirNotFound("no FIR with this id")
