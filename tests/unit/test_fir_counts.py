"""FIR counts: what an FIR adds to them, what a change moves, and how any range of
time is read as count rows plus partial days (``afirgen_fir.domain.counts``)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from afirgen_fir.domain import counts
from afirgen_fir.domain.counts import ANY_ACT, BY_ACT, DAY, DISTRICT_DAY, MONTH, TOTAL, YEAR, Counted, CountKey
from afirgen_fir.domain.model import FirStatus
from hypothesis import given, settings
from hypothesis import strategies as st

IST = timedelta(hours=5, minutes=30)
START = datetime(2024, 12, 1, tzinfo=UTC)
SPAN_SECONDS = 800 * 86400


def counted(when: datetime, status: FirStatus = FirStatus.DRAFT, *sections: tuple[str, str]) -> Counted:
    return Counted(when, "DL-CP-01", "New Delhi", status, tuple(sections))


def test_a_new_fir_counts_once_per_grain_section_and_section_number() -> None:
    fir = counted(datetime(2026, 12, 31, 18, 29, tzinfo=UTC), FirStatus.DRAFT, ("BNS", "303"), ("IPC", "303"))
    rows = counts.changes(None, fir, IST)
    # 23:59 IST on 31 December: that local day, month and year.
    periods = {k.grain: k.period for k, _, _ in rows}
    assert periods == {DAY: date(2026, 12, 31), MONTH: date(2026, 12, 1), YEAR: date(2026, 1, 1)}
    by_kind = Counter((k.kind, k.act, k.section) for k, d, f in rows if (d, f) == (1, 0))
    assert by_kind == {
        (TOTAL, "", ""): 3,
        (BY_ACT, "BNS", "303"): 3,
        (BY_ACT, "IPC", "303"): 3,
        (ANY_ACT, "", "303"): 3,
        (DISTRICT_DAY, "", ""): 1,  # the district's day, every station: by day only
    }
    assert {(k.station, k.district) for k, _, _ in rows if k.kind == DISTRICT_DAY} == {("", "New Delhi")}
    assert rows == sorted(rows), "rows are locked in key order"


def test_one_minute_later_is_the_next_local_day_month_and_year() -> None:
    rows = counts.changes(None, counted(datetime(2026, 12, 31, 18, 30, tzinfo=UTC)), IST)
    assert {k.period for k, _, _ in rows} == {date(2027, 1, 1)}


def test_finalizing_moves_every_row_from_drafts_to_finalized() -> None:
    when = datetime(2026, 11, 28, 10, tzinfo=UTC)
    draft = counted(when, FirStatus.DRAFT, ("BNS", "304"))
    final = counted(when, FirStatus.FINALIZED, ("BNS", "304"))
    rows = counts.changes(draft, final, IST)
    assert len(rows) == 10 and all((d, f) == (-1, 1) for _, d, f in rows)


def test_changing_sections_moves_only_the_section_rows() -> None:
    when = datetime(2026, 11, 28, 10, tzinfo=UTC)
    before = counted(when, FirStatus.DRAFT, ("BNS", "303"), ("BNS", "304"))
    after = counted(when, FirStatus.DRAFT, ("BNS", "304"), ("BNS", "309"))
    moved = {(k.grain, k.kind, k.section): d for k, d, _ in counts.changes(before, after, IST)}
    assert moved == {
        (g, kind, section): n
        for g in (DAY, MONTH, YEAR)
        for kind in (BY_ACT, ANY_ACT)
        for section, n in (("303", -1), ("309", 1))
    }


def test_an_edit_that_changes_nothing_counted_writes_nothing() -> None:
    fir = counted(datetime(2026, 11, 28, 10, tzinfo=UTC), FirStatus.DRAFT, ("BNS", "303"))
    assert counts.changes(fir, fir, IST) == []


def test_bounds_merge_into_one_half_open_range() -> None:
    t = datetime(2026, 11, 28, 10, tzinfo=UTC)
    tick = timedelta(microseconds=1)
    assert counts.bounds([(">", t), ("<=", t + timedelta(hours=1))]) == (t + tick, t + timedelta(hours=1) + tick)
    assert counts.bounds([(">=", t), (">=", t + timedelta(days=1))]) == (t + timedelta(days=1), None)
    assert counts.bounds([("<", t), (">=", t)]) is None
    assert counts.bounds([]) == (None, None)


def test_all_time_is_the_year_rows() -> None:
    assert counts.split(None, None, IST) == counts.Plan((counts.Span(YEAR, None, None),), ())


def test_a_month_to_date_is_days_and_a_partial_day() -> None:
    lo = counts.local_midnight(date(2026, 11, 1), IST)
    hi = datetime(2026, 11, 28, 10, tzinfo=UTC)
    plan = counts.split(lo, hi, IST)
    assert plan.spans == (counts.Span(DAY, date(2026, 11, 1), date(2026, 11, 28)),)
    assert plan.edges == (counts.Edge(datetime(2026, 11, 27, 18, 30), hi.replace(tzinfo=None), date(2026, 11, 28)),)


def _key_in(key: CountKey, span: counts.Span) -> bool:
    return (
        key.grain == span.grain
        and (span.first is None or key.period >= span.first)
        and (span.stop is None or key.period < span.stop)
    )


def _via_plan(firs: list[Counted], plan: counts.Plan) -> int:
    """What the statements compute: count rows in the spans plus FIRs of the edges."""
    rows: Counter[CountKey] = Counter()
    for fir in firs:
        for (key, _), n in counts.tally(fir, IST).items():
            if key.kind == TOTAL:
                rows[key] += n
    total = sum(n for key, n in rows.items() for span in plan.spans if _key_in(key, span))
    for edge in plan.edges:
        for fir in firs:
            assert fir.create_time is not None
            if edge.start <= fir.create_time.replace(tzinfo=None) < edge.end:
                total += 1
    return total


instants = st.integers(0, SPAN_SECONDS).map(lambda s: START + timedelta(seconds=s))
half_hours = st.integers(0, SPAN_SECONDS // 1800).map(lambda n: START + timedelta(minutes=30 * n))
bounds = st.one_of(st.none(), instants, half_hours)


@settings(max_examples=300, deadline=None)
@given(st.lists(instants, max_size=40), bounds, bounds, st.sampled_from([DAY, MONTH, YEAR]))
def test_any_range_read_from_counts_equals_counting_the_firs(
    times: list[datetime], lo: datetime | None, hi: datetime | None, coarsest: str
) -> None:
    firs = [counted(t) for t in times]
    plan = counts.split(lo, hi, IST, coarsest=coarsest)
    expected = sum(1 for t in times if (lo is None or t >= lo) and (hi is None or t < hi))
    assert _via_plan(firs, plan) == expected
    grains = {span.grain for span in plan.spans}
    assert grains <= set(counts.GRAINS[: counts.GRAINS.index(coarsest) + 1])
    for edge in plan.edges:  # a partial day never spans more than one local day
        assert edge.end - edge.start <= timedelta(days=1)
        assert counts.local_day(edge.start, IST) == edge.day


@settings(max_examples=200, deadline=None)
@given(instants, instants)
def test_a_range_reads_a_bounded_number_of_periods(lo: datetime, hi: datetime) -> None:
    lo, hi = min(lo, hi), max(lo, hi)
    plan = counts.split(lo, hi, IST)
    days = sum(((s.stop or date.max) - (s.first or date.min)).days for s in plan.spans if s.grain == DAY and s.first)
    assert days <= 62 and len(plan.edges) <= 2 and len(plan.spans) <= 5
