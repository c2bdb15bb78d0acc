"""FIR counts by period, station and legal section: what an FIR adds to them, and
how a time range is read from them. No I/O.

The counts (table ``fir_counts``) change in the same transaction as the FIRs
they count, so they are never stale. Periods are local days, months and years
(the FIR numbering offset: IST by default); a range of time is read as whole
years, whole months and whole days of counts, plus ``firs`` itself for the
partial days at its ends (:func:`split`). Any range thus costs a bounded
number of count rows per station, however many FIRs it holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from afirgen_fir.domain.model import Fir, FirStatus

DAY, MONTH, YEAR = "D", "M", "Y"
GRAINS = (DAY, MONTH, YEAR)
TOTAL, BY_ACT, ANY_ACT, DISTRICT_DAY = 0, 1, 2, 3
"""Kinds of count rows: all FIRs; FIRs citing a section of an act; FIRs citing a
section number under any act (what the ``section`` filter matches); and, by day
only, all FIRs of a district (station ''), so a year of ``by_day`` over every
station reads a row per district and day, not per station and day."""


@dataclass(frozen=True, order=True)
class CountKey:
    """One count row, fields in the table's key order (changes lock rows in this order)."""

    grain: str
    kind: int
    period: date
    act: str
    section: str
    station: str
    district: str


Tally = Counter[tuple[CountKey, FirStatus]]
"""How many FIRs each row counts, per status."""


def period_start(day: date, grain: str) -> date:
    """First day of the period of ``grain`` that holds ``day``."""
    if grain == MONTH:
        return day.replace(day=1)
    if grain == YEAR:
        return day.replace(month=1, day=1)
    return day


def local_day(when: datetime, utc_offset: timedelta) -> date:
    """The local date of an instant (naive datetimes are UTC)."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return (aware.astimezone(UTC) + utc_offset).date()


def local_midnight(day: date, utc_offset: timedelta) -> datetime:
    """The UTC instant at which local ``day`` begins."""
    return datetime.combine(day, time.min, tzinfo=UTC) - utc_offset


@dataclass(frozen=True)
class Counted:
    """What of an FIR its counts depend on, copied (the FIR itself changes in place)."""

    create_time: datetime | None
    station: str
    district: str
    status: FirStatus
    sections: tuple[tuple[str, str], ...]
    """``(act, section)`` of every legal section cited."""

    @classmethod
    def of(cls, fir: Fir) -> Counted:
        """The snapshot of ``fir`` as it is now."""
        return cls(
            fir.create_time,
            fir.station.code,
            fir.station.district,
            fir.status,
            tuple((ref.act, ref.section) for ref in fir.legal_sections),
        )


def tally(fir: Counted, utc_offset: timedelta) -> Tally:
    """The rows one stored FIR counts in (each once), at every grain."""
    out: Tally = Counter()
    if fir.create_time is None:
        return out
    day = local_day(fir.create_time, utc_offset)
    # Keys compare case-insensitively in MySQL (fir_sections refuses an FIR citing a section twice).
    acts = {(act.casefold(), section.casefold()): (act, section) for act, section in fir.sections}
    numbers = {section.casefold(): section for _, section in acts.values()}
    out[(CountKey(DAY, DISTRICT_DAY, day, "", "", "", fir.district), fir.status)] += 1
    for grain in GRAINS:
        period = period_start(day, grain)
        out[(CountKey(grain, TOTAL, period, "", "", fir.station, fir.district), fir.status)] += 1
        for act, section in acts.values():
            out[(CountKey(grain, BY_ACT, period, act, section, fir.station, fir.district), fir.status)] += 1
        for section in numbers.values():
            out[(CountKey(grain, ANY_ACT, period, "", section, fir.station, fir.district), fir.status)] += 1
    return out


def changes(before: Counted | None, after: Counted, utc_offset: timedelta) -> list[tuple[CountKey, int, int]]:
    """``(row, drafts delta, finalized delta)`` turning ``before``'s counts into ``after``'s,
    in key order, rows that do not change left out."""
    delta: dict[CountKey, list[int]] = {}
    for sign, fir in ((-1, before), (1, after)):
        if fir is None:
            continue
        for (key, status), n in tally(fir, utc_offset).items():
            pair = delta.setdefault(key, [0, 0])
            pair[0 if status is FirStatus.DRAFT else 1] += sign * n
    return [(key, d, f) for key, (d, f) in sorted(delta.items()) if d or f]


# --- reading a range -------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Count rows of one grain whose period starts in ``[first, stop)`` (``None``: unbounded)."""

    grain: str
    """``DAY``, ``MONTH`` or ``YEAR``."""
    first: date | None
    """First period start read."""
    stop: date | None
    """Period start where reading stops."""


class Edge(NamedTuple):
    """FIRs created in ``[start, end)`` (UTC, naive), all within local ``day``: read from ``firs``."""

    start: datetime
    """First instant counted."""
    end: datetime
    """First instant not counted."""
    day: date
    """The local day ``[start, end)`` lies in (the ``by_day`` key of its FIRs)."""


@dataclass(frozen=True)
class Plan:
    """How to read a range: count rows plus partial days from ``firs``."""

    spans: tuple[Span, ...]
    """Count rows, by grain and period."""
    edges: tuple[Edge, ...]
    """Partial days at either end, read from ``firs``."""

    @property
    def empty(self) -> bool:
        """True when the range holds no time at all."""
        return not self.spans and not self.edges


def bounds(time_bounds: Iterable[tuple[str, datetime]]) -> tuple[datetime | None, datetime | None] | None:
    """``created_at`` conditions as one half-open UTC range ``[lo, hi)``; ``None`` when empty.

    Times are microseconds (``DATETIME(6)``), so ``> t`` is ``>= t + 1 µs``."""
    lo: datetime | None = None
    hi: datetime | None = None
    tick = timedelta(microseconds=1)
    for op, when in time_bounds:
        at = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
        if op in (">", ">="):
            start = at + tick if op == ">" else at
            lo = start if lo is None else max(lo, start)
        else:
            end = at + tick if op == "<=" else at
            hi = end if hi is None else min(hi, end)
    if lo is not None and hi is not None and lo >= hi:
        return None
    return lo, hi


def split(lo: datetime | None, hi: datetime | None, utc_offset: timedelta, *, coarsest: str = YEAR) -> Plan:
    """Read UTC ``[lo, hi)`` as count spans (no grain coarser than ``coarsest``) and edges."""
    if lo is not None and hi is not None and lo >= hi:
        return Plan((), ())
    edges: list[Edge] = []
    first_day = last_day = None  # whole local days [first_day, last_day)
    if lo is not None:
        first_day = local_day(lo, utc_offset)
        if local_midnight(first_day, utc_offset) != lo:
            first_day += timedelta(days=1)
    if hi is not None:
        last_day = local_day(hi, utc_offset)
    if first_day is not None and last_day is not None and first_day > last_day:
        # Both ends inside one local day.
        assert lo is not None and hi is not None
        return Plan((), (Edge(_naive(lo), _naive(hi), local_day(lo, utc_offset)),))
    if lo is not None and first_day is not None and local_midnight(first_day, utc_offset) != lo:
        edges.append(Edge(_naive(lo), _naive(local_midnight(first_day, utc_offset)), first_day - timedelta(days=1)))
    if hi is not None and last_day is not None and local_midnight(last_day, utc_offset) != hi:
        edges.append(Edge(_naive(local_midnight(last_day, utc_offset)), _naive(hi), last_day))
    return Plan(tuple(_spans(first_day, last_day, GRAINS[: GRAINS.index(coarsest) + 1])), tuple(edges))


def _naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def _ceil(day: date | None, grain: str) -> date | None:
    """First period start of ``grain`` on or after ``day``."""
    if day is None or period_start(day, grain) == day:
        return day
    if grain == MONTH:
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date(day.year + 1, 1, 1)


def _spans(first: date | None, stop: date | None, grains: tuple[str, ...]) -> list[Span]:
    """Whole days ``[first, stop)`` as spans, the coarsest grain in the middle."""
    if first is not None and stop is not None and first >= stop:
        return []
    grain, finer = grains[-1], grains[:-1]
    if not finer:
        return [Span(grain, first, stop)]
    inner_first = _ceil(first, grain)
    inner_stop = period_start(stop, grain) if stop is not None else None
    if inner_first is not None and inner_stop is not None and inner_first >= inner_stop:
        return _spans(first, stop, finer)
    head = _spans(first, inner_first, finer) if first is not None else []
    tail = _spans(inner_stop, stop, finer) if stop is not None else []
    return [*head, Span(grain, inner_first, inner_stop), *tail]
