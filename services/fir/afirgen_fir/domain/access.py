"""Who may see and change which FIRs: every rule of access, in one place.

| role | reads | creates and edits drafts | finalizes |
|---|---|---|---|
| constable, sub_inspector | own station | own station | no |
| sho (station house officer) | own station | own station | own station |
| district_sp (superintendent) | own district | no | own district |
| auditor | every station | no | no |
| operator | no FIR data | no | no |

Reads are scoped inside the query (:func:`restrict`), so lists, counts and
statistics never include another station's rows or totals, and an FIR out
of scope answers NOT_FOUND as if it did not exist. An FIR in scope that the
caller may not change answers PERMISSION_DENIED.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from afirgen_runtime.errors import InvalidArgument, PermissionDenied, Unauthenticated
from afirgen_runtime.identity import Caller

from afirgen_fir.domain.model import Fir
from afirgen_fir.domain.queries import FirFilter

STATION_ROLES = frozenset({"constable", "sub_inspector", "sho"})
FINALIZERS = frozenset({"sho", "district_sp"})


@dataclass(frozen=True)
class Scope:
    """The FIRs a caller may read: one station, one district, or all (both ``None``)."""

    station: str | None = None
    district: str | None = None

    def covers(self, fir: Fir) -> bool:
        """True when ``fir`` (with its station loaded) is inside the scope."""
        if self.station is not None and fir.station.code != self.station:
            return False
        return self.district is None or fir.station.district == self.district


def require(caller: Caller | None) -> Caller:
    """The caller, or UNAUTHENTICATED when the call carries no verified identity."""
    if caller is None:
        raise Unauthenticated("this call needs a verified access token")
    return caller


def read_scope(caller: Caller | None) -> Scope:
    """What ``caller`` may read; PERMISSION_DENIED for roles without FIR access."""
    caller = require(caller)
    if caller.has("auditor"):
        return Scope()
    if caller.has(*STATION_ROLES):
        if not caller.station:
            raise PermissionDenied("the token names no station for this station role")
        return Scope(station=caller.station)
    if caller.has("district_sp"):
        if not caller.district:
            raise PermissionDenied("the token names no district for this district role")
        return Scope(district=caller.district)
    raise PermissionDenied("this role has no access to FIRs")


def restrict(flt: FirFilter, scope: Scope) -> FirFilter | None:
    """``flt`` narrowed to ``scope``; ``None`` when nothing can match (another station asked for)."""
    if scope.station is not None:
        if flt.station is not None and flt.station != scope.station:
            return None
        flt = dataclasses.replace(flt, station=scope.station)
    if scope.district is not None:
        if flt.district is not None and flt.district != scope.district:
            return None
        flt = dataclasses.replace(flt, district=scope.district)
    return flt


def ensure_may_create(caller: Caller | None, station_code: str) -> Caller:
    """Station officers create drafts for their own station only."""
    caller = require(caller)
    if not caller.has(*STATION_ROLES):
        raise PermissionDenied("only station officers create FIRs")
    if station_code != caller.station:
        raise PermissionDenied(
            f"an officer of station {caller.station or '(none)'} can only create FIRs of that station"
        )
    return caller


def district_of_new_fir(caller: Caller, district: str) -> str:
    """The district a new FIR is filed under: the one in the officer's token.

    A district superintendent's scope is the FIRs of their district, so the
    district cannot be the client's choice: left empty it is filled from the
    token, and a different one is refused. A token without a district leaves
    the client's value."""
    if not caller.district:
        return district
    if district and district.casefold() != caller.district.casefold():
        raise InvalidArgument.for_field(
            "station.district",
            f"must be the district of your station, {caller.district} (or left empty to take it from your token)",
        )
    return caller.district


def ensure_may_edit(caller: Caller | None, fir: Fir) -> None:
    """Station officers edit (and regenerate) drafts of their own station."""
    caller = require(caller)
    if not caller.has(*STATION_ROLES) or fir.station.code != caller.station:
        raise PermissionDenied("only officers of the FIR's station edit its draft")


def ensure_may_finalize(caller: Caller | None, fir: Fir) -> None:
    """The station house officer of the FIR's station, or the superintendent of its district."""
    caller = require(caller)
    if caller.has("sho") and fir.station.code == caller.station:
        return
    if caller.has("district_sp") and caller.district and fir.station.district == caller.district:
        return
    raise PermissionDenied("only the station house officer or the district superintendent finalizes an FIR")
