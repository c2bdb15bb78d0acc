"""List and statistics queries over FIRs, parsed from the API's filter language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from afirgen_runtime.errors import FilterInvalid, InvalidArgument
from afirgen_runtime.filtering import Condition, parse_filter

from afirgen_fir.domain.model import FirStatus

_EQ = frozenset({"="})
_RANGE = frozenset({"<", "<=", ">", ">="})
LIST_FILTER_FIELDS = {
    "station": _EQ,
    "status": _EQ,
    "district": _EQ,
    "section": _EQ,
    "create_time": _RANGE,
}
STATS_FILTER_FIELDS = {k: v for k, v in LIST_FILTER_FIELDS.items() if k != "section"}
ORDERS = {
    "": ("create_time", True),
    "create_time desc": ("create_time", True),
    "create_time asc": ("create_time", False),
    "create_time": ("create_time", False),
    "update_time desc": ("update_time", True),
    "update_time asc": ("update_time", False),
    "update_time": ("update_time", False),
}


@dataclass(frozen=True)
class FirFilter:
    """Conditions joined by AND."""

    station: str | None = None
    status: FirStatus | None = None
    district: str | None = None
    section: str | None = None
    time_bounds: tuple[tuple[str, datetime], ...] = ()
    """``(op, time)`` pairs on create_time."""


def _status(value: str) -> FirStatus:
    name = value.upper().removeprefix("FIR_STATUS_")
    try:
        return FirStatus(name)
    except ValueError:
        raise FilterInvalid.for_field("filter", f"unknown status {value!r}; use DRAFT or FINALIZED") from None


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FilterInvalid.for_field("filter", f"create_time needs an RFC 3339 time, got {value!r}") from None
    if parsed.tzinfo is None:
        raise FilterInvalid.for_field("filter", "create_time needs a time zone (e.g. Z)")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # an offset that moves the time out of years 1-9999
        raise FilterInvalid.for_field("filter", f"create_time {value!r} is out of range") from None


def parse_fir_filter(text: str, *, allow_section: bool = True) -> FirFilter:
    """Parse the ``filter`` of ListFirs / GetFirStats."""
    allowed = LIST_FILTER_FIELDS if allow_section else STATS_FILTER_FIELDS
    conditions: list[Condition] = parse_filter(text, allowed)
    values: dict[str, object] = {}
    bounds: list[tuple[str, datetime]] = []
    for cond in conditions:
        if cond.field == "create_time":
            bounds.append((cond.op, _time(cond.value)))
            continue
        if cond.field in values:
            raise FilterInvalid.for_field("filter", f"{cond.field} given twice")
        values[cond.field] = _status(cond.value) if cond.field == "status" else cond.value
    return FirFilter(time_bounds=tuple(bounds), **values)  # type: ignore[arg-type]


def parse_order(text: str) -> tuple[str, bool]:
    """``(column, descending)`` for an ``order_by``."""
    key = " ".join(text.strip().lower().split())
    if key not in ORDERS:
        raise InvalidArgument.for_field(
            "order_by", "use one of: create_time desc, create_time asc, update_time desc, update_time asc"
        )
    return ORDERS[key]


@dataclass(frozen=True)
class ListQuery:
    """One page of ListFirs."""

    filter: FirFilter
    order_field: str
    descending: bool
    page_size: int
    after: tuple[str, int] | None = None
    """Keyset of the last row of the previous page: (timestamp ISO, pk)."""
    fields: frozenset[str] = field(default_factory=frozenset)
    """Top-level fields to load; empty means all."""
