"""Which cached lists, totals and statistics a write can change, and how to make only those stale.

Every cached list page, total and statistics entry belongs to one *scope*: the
place its filter names (a station, else a district, else every FIR) and the
status it names (or any). Each scope has a *generation*: a random token kept in
the cache (namespace ``fir_list``, key ``gen:<place>:<status>``) and in a near
cache of this process; the token is part of every key of that scope. A write to
an FIR of station S in district D deletes the generations of S, D and "every
FIR", each for any status and for the statuses the FIR had before and after the
write: the next reader of those scopes finds no token, makes a new one, and so
misses every old entry (left to expire). Reads of other stations, districts and
statuses keep their entries: under a mix of writes spread over many stations,
lists and statistics keep being served from the cache.

A time-bounded filter belongs to the scope of its place and status: a write
always makes it stale (its day is not part of the scope).

Station codes and districts are compared casefolded, as the database compares
them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from afirgen_runtime.cache_client import Cache, Fill
from afirgen_runtime.near_cache import NearCache

from afirgen_fir.domain.model import Fir, FirStatus
from afirgen_fir.domain.queries import FirFilter

NS_GENERATIONS = "fir_list"
GENERATION_TTL = 3600.0
"""Seconds a generation lives: when it expires its scope's entries are simply missed once."""
ANY = "any"


def _place(kind: str, name: str) -> str:
    return f"{kind}:{name.strip().casefold()}"


def scope_of(flt: FirFilter) -> str:
    """The generation key of the cached reads of ``flt``."""
    if flt.station:
        place = _place("st", flt.station)
    elif flt.district:
        place = _place("di", flt.district)
    else:
        place = "all"
    return f"gen:{place}:{flt.status.value if flt.status else ANY}"


def scopes_changed_by(fir: Fir, statuses: Iterable[FirStatus]) -> list[str]:
    """The generation keys a write to ``fir`` makes stale (``statuses``: what it had, and has)."""
    places = [_place("st", fir.station.code), _place("di", fir.station.district), "all"]
    names = [ANY, *sorted({status.value for status in statuses})]
    return [f"gen:{place}:{name}" for place in places for name in names]


class Generations:
    """The current token of each scope: the near cache, else the cache (made there when missing)."""

    def __init__(self, cache: Cache, near: NearCache[str]) -> None:
        self._cache = cache
        self.near = near

    async def token(self, scope: str) -> str:
        """The token of ``scope`` (a fresh one, not stored, when the cache does not answer)."""
        token = self.near.get(scope)
        if token is not None:
            return token
        epoch = self.near.epoch

        async def new_token() -> Fill:
            return Fill(secrets.token_hex(8).encode(), GENERATION_TTL)

        data = await self._cache.get_or_load(NS_GENERATIONS, scope, new_token)
        token = data.decode(errors="replace") if data else secrets.token_hex(8)
        self.near.put(scope, token, epoch)
        return token

    def forget(self, scopes: list[str]) -> None:
        """Drop ``scopes`` here (the writer's own next read makes a new token)."""
        self.near.drop(*scopes)

    async def invalidate(self, scopes: list[str]) -> None:
        """Delete the tokens of ``scopes`` in the cache (published to every near cache)."""
        await self._cache.delete(NS_GENERATIONS, *scopes)
