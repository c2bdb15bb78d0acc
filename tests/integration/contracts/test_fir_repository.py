"""The FirRepository contract: what the FIR service layer relies on, run against the
in-memory fake of the unit tests and the MySQL adapter alike.

Every test owns its data through a station code (and, where a filter spans stations,
a district) of its own; every query names one of them.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from afirgen_fir.adapters.mysql_repository import MySQLFirRepository
from afirgen_fir.domain.counts import local_day, local_midnight
from afirgen_fir.domain.errors import FirNotFound
from afirgen_fir.domain.model import (
    Complainant,
    Complaint,
    ComplaintSource,
    FactKind,
    Fir,
    FirStatus,
    GenerationInfo,
    Incident,
    LegalSectionRef,
    Officer,
    Person,
    Property,
    StatedFact,
    Station,
)
from afirgen_fir.domain.queries import FirFilter, ListQuery
from afirgen_fir.service_layer.ports import Change, FirCounts, FirRepository, IdempotencyKey
from afirgen_runtime.errors import AlreadyExists, NotFound

from tests.conftest import unique_station
from tests.integration.contracts.conftest import Clock
from tests.unit.fakes import FakeFirRepository

pytestmark = pytest.mark.integration

NUMBERING_OFFSET = timedelta(minutes=330)
"""The service's default: FIR numbers follow the year in India."""
CHANGE = Change("contract-officer", "contract-request")
ORDERS = [("create_time", True), ("create_time", False), ("update_time", True), ("update_time", False)]


@dataclass
class Backend:
    """A repository and the clock it reads."""

    repo: FirRepository
    clock: Clock

    async def create(self, fir: Fir, key: IdempotencyKey | None = None) -> Fir:
        """Store ``fir`` (it must be new) and return it as stored."""
        stored, created = await self.repo.create(fir, action="CREATED", idempotency=key, change=CHANGE)
        assert created
        return stored

    async def edit(self, fir_id: str, **fields: object) -> Fir:
        """Replace top-level fields of a stored FIR."""

        def mutate(fir: Fir) -> list[str]:
            for name, value in fields.items():
                setattr(fir, name, value)
            return sorted(fields)

        return await self.repo.modify(fir_id, mutate, action="UPDATED", change=CHANGE)

    async def ids(self, flt: FirFilter, order: tuple[str, bool] = ("create_time", True)) -> list[str]:
        """Ids of every FIR matching ``flt`` in ``order`` (one large page)."""
        firs, _ = await self.repo.list_page(ListQuery(flt, order[0], order[1], 500))
        return [f.id for f in firs]


@pytest.fixture(params=["fake", "mysql"])
def backend(request: pytest.FixtureRequest, clock: Clock) -> Backend:
    """The fake, or the MySQL adapter on the test stack's ``fir`` schema."""
    if request.param == "fake":
        return Backend(FakeFirRepository(clock, numbering_utc_offset=NUMBERING_OFFSET), clock)
    db = request.getfixturevalue("fir_db")
    return Backend(MySQLFirRepository(db, clock=clock, numbering_utc_offset=NUMBERING_OFFSET), clock)


def unique_district() -> str:
    """A district no other test uses."""
    return f"Contract District {uuid.uuid4().hex[:8]}"


def new_fir(station: str, district: str = "Contract District", sections: tuple[str, ...] = ("303",)) -> Fir:
    """A DRAFT with every kind of field filled."""
    return Fir(
        station=Station(code=station, name="Contract Station", district=district, state="Delhi"),
        complainant=Complainant(name="Kiran Rao", phone="+91 98100 12345", address="4 Mall Road"),
        incident=Incident(
            occurred_from=datetime(2026, 11, 1, 18, 30, tzinfo=UTC),
            occurred_to=datetime(2026, 11, 1, 18, 45, tzinfo=UTC),
            place="Sector 5 market",
            distance_km=1.5,
        ),
        accused=[Person(description="two men on a red scooter")],
        witnesses=[Person(name="Ravi Kumar", address="5 Mall Road")],
        properties=[Property(description="mobile phone", value_inr=18000)],
        complaint=Complaint(ComplaintSource.TEXT, "My phone was snatched at Sector 5 market.", "en"),
        summary="Mobile phone snatched at the market",
        narrative="At about 18:30 two men on a red scooter took the phone.",
        legal_sections=[LegalSectionRef("BNS", section, f"Section {section}") for section in sections],
        investigating_officer=Officer("Anil Singh", "SI"),
        generation=GenerationInfo(model="rules", deterministic_parts=["summary"]),
        facts=[StatedFact(FactKind.AMOUNT, "18000")],
    )


# --- create, get, numbering ----------------------------------------------------------


async def test_a_new_fir_is_a_draft_at_revision_1_created_now(backend: Backend) -> None:
    station = unique_station()
    fir = new_fir(station)
    fir.status = FirStatus.FINALIZED
    stored = await backend.create(fir)
    now = backend.clock.now
    assert (stored.status, stored.revision, stored.create_time, stored.update_time, stored.finalize_time) == (
        FirStatus.DRAFT,
        1,
        now,
        now,
        None,
    )


async def test_numbers_count_up_per_station(backend: Backend) -> None:
    first, second = unique_station(), unique_station()
    numbers = [(await backend.create(new_fir(code))).fir_number for code in (first, first, second, first)]
    year = (backend.clock.now + NUMBERING_OFFSET).year
    assert numbers == [
        f"{first}/{year}/00001",
        f"{first}/{year}/00002",
        f"{second}/{year}/00001",
        f"{first}/{year}/00003",
    ]


async def test_the_number_year_is_the_year_at_the_numbering_offset(backend: Backend) -> None:
    station = unique_station()
    backend.clock.now = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 22:30 in India
    before = await backend.create(new_fir(station))
    backend.clock.now = datetime(2026, 12, 31, 19, 0, tzinfo=UTC)  # 00:30 on 1 January in India
    after = await backend.create(new_fir(station))
    assert [before.fir_number, after.fir_number] == [f"{station}/2026/00001", f"{station}/2027/00001"]


async def test_get_returns_the_fir_as_stored(backend: Backend) -> None:
    stored = await backend.create(new_fir(unique_station()))
    assert await backend.repo.get(stored.id) == stored


async def test_get_with_fields_loads_those_fields(backend: Backend) -> None:
    stored = await backend.create(new_fir(unique_station()))
    got = await backend.repo.get(stored.id, frozenset({"summary", "station", "legal_sections"}))
    assert got is not None
    assert (got.id, got.status, got.revision, got.summary, got.station, got.legal_sections) == (
        stored.id,
        stored.status,
        stored.revision,
        stored.summary,
        stored.station,
        stored.legal_sections,
    )


async def test_get_of_an_unknown_id_is_none(backend: Backend) -> None:
    assert await backend.repo.get(str(uuid.uuid4())) is None


# --- idempotency keys ---------------------------------------------------------------


def new_key(request_hash: str = "hash-1") -> IdempotencyKey:
    return IdempotencyKey(f"contract-{uuid.uuid4()}", request_hash)


async def test_a_repeated_key_answers_the_first_fir_and_stores_nothing(backend: Backend) -> None:
    station, key = unique_station(), new_key()
    first = await backend.create(new_fir(station), key)
    backend.clock.advance(seconds=1)
    again, created = await backend.repo.create(new_fir(station), action="CREATED", idempotency=key, change=CHANGE)
    assert (again, created, await backend.repo.count(FirFilter(station=station))) == (first, False, 1)


async def test_a_replay_uses_no_number(backend: Backend) -> None:
    station, key = unique_station(), new_key()
    await backend.create(new_fir(station), key)
    await backend.repo.create(new_fir(station), action="CREATED", idempotency=key, change=CHANGE)
    following = await backend.create(new_fir(station))
    assert following.fir_number.endswith("/00002")


async def test_a_key_reused_with_another_request_is_refused(backend: Backend) -> None:
    station, key = unique_station(), new_key("hash-1")
    await backend.create(new_fir(station), key)
    with pytest.raises(AlreadyExists) as refused:
        await backend.repo.create(
            new_fir(station),
            action="CREATED",
            idempotency=dataclasses.replace(key, request_hash="hash-2"),
            change=CHANGE,
        )
    assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_find_by_key_answers_the_fir_the_key_created(backend: Backend) -> None:
    key = new_key()
    first = await backend.create(new_fir(unique_station()), key)
    assert await backend.repo.find_by_idempotency_key(key) == first


async def test_find_by_an_unknown_key_is_none(backend: Backend) -> None:
    assert await backend.repo.find_by_idempotency_key(new_key()) is None


async def test_find_by_key_with_another_request_is_refused(backend: Backend) -> None:
    key = new_key("hash-1")
    await backend.create(new_fir(unique_station()), key)
    with pytest.raises(AlreadyExists) as refused:
        await backend.repo.find_by_idempotency_key(dataclasses.replace(key, request_hash="hash-2"))
    assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"


# --- modify and the audit trail -----------------------------------------------------


async def test_a_change_is_a_new_revision_at_the_time_of_the_change(backend: Backend) -> None:
    stored = await backend.create(new_fir(unique_station()))
    changed_at = backend.clock.advance(minutes=5)
    edited = await backend.edit(stored.id, summary="Phone and wallet snatched")
    got = await backend.repo.get(stored.id)
    expected = dataclasses.replace(stored, summary="Phone and wallet snatched", revision=2, update_time=changed_at)
    assert (edited, got) == (expected, expected)


async def test_a_mutation_that_changes_nothing_keeps_the_revision(backend: Backend) -> None:
    stored = await backend.create(new_fir(unique_station()))
    backend.clock.advance(minutes=5)
    same = await backend.repo.modify(stored.id, lambda fir: [], action="UPDATED", change=CHANGE)
    assert (same, await backend.repo.get(stored.id)) == (stored, stored)


async def test_a_refused_mutation_stores_nothing(backend: Backend) -> None:
    stored = await backend.create(new_fir(unique_station()))

    def refuse(fir: Fir) -> list[str]:
        fir.summary = "half-made change"
        raise FirNotFound("refused by the service layer")

    with pytest.raises(NotFound):
        await backend.repo.modify(stored.id, refuse, action="UPDATED", change=CHANGE)
    assert await backend.repo.get(stored.id) == stored


async def test_modifying_an_unknown_fir_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound) as missing:
        await backend.repo.modify(str(uuid.uuid4()), lambda fir: ["summary"], action="UPDATED", change=CHANGE)
    assert missing.value.reason == "FIR_NOT_FOUND"


async def test_finalizing_stores_the_status_and_its_time(backend: Backend) -> None:
    stored = await backend.create(new_fir(unique_station()))
    when = backend.clock.advance(hours=1)
    await backend.edit(stored.id, status=FirStatus.FINALIZED, finalize_time=when)
    got = await backend.repo.get(stored.id)
    assert got is not None and (got.status, got.finalize_time, got.revision) == (FirStatus.FINALIZED, when, 2)


async def test_the_audit_trail_has_every_change_oldest_first(backend: Backend) -> None:
    stored = await backend.create(new_fir(unique_station()))
    created_at = backend.clock.now
    edited_at = backend.clock.advance(minutes=1)
    await backend.edit(stored.id, summary="edited", narrative="edited too")
    events = await backend.repo.events(stored.id, 0, 10)
    assert [(e.action, e.actor, e.changed_fields, e.time, e.revision, e.request_id) for e in events] == [
        (
            "CREATED",
            CHANGE.actor,
            [
                "accused",
                "complainant",
                "complaint",
                "incident",
                "investigating_officer",
                "legal_sections",
                "narrative",
                "properties",
                "station",
                "summary",
                "witnesses",
            ],
            created_at,
            1,
            CHANGE.request_id,
        ),
        ("UPDATED", CHANGE.actor, ["narrative", "summary"], edited_at, 2, CHANGE.request_id),
    ]


async def test_audit_pages_continue_after_the_last_event_seen(backend: Backend) -> None:
    stored = await backend.create(new_fir(unique_station()))
    for n in range(3):
        await backend.edit(stored.id, summary=f"edit {n}")
    first = await backend.repo.events(stored.id, 0, 2)
    rest = await backend.repo.events(stored.id, first[-1].event_pk, 10)
    assert [e.revision for e in first + rest] == [1, 2, 3, 4]


async def test_the_audit_trail_of_an_unknown_fir_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound) as missing:
        await backend.repo.events(str(uuid.uuid4()), 0, 10)
    assert missing.value.reason == "FIR_NOT_FOUND"


# --- filters -------------------------------------------------------------------------


async def test_the_station_filter_keeps_that_station(backend: Backend) -> None:
    mine, other = unique_station(), unique_station()
    kept = [(await backend.create(new_fir(code))).id for code in (mine, other, mine)]
    assert await backend.ids(FirFilter(station=mine)) == [kept[2], kept[0]]


async def test_the_status_filter_keeps_that_status(backend: Backend) -> None:
    station = unique_station()
    draft = await backend.create(new_fir(station))
    final = await backend.create(new_fir(station))
    await backend.edit(final.id, status=FirStatus.FINALIZED)
    by_status = [await backend.ids(FirFilter(station=station, status=s)) for s in FirStatus]
    assert by_status == [[draft.id], [final.id]]


async def test_the_district_filter_keeps_that_district(backend: Backend) -> None:
    district = unique_district()
    inside = [await backend.create(new_fir(unique_station(), district)) for _ in range(2)]
    await backend.create(new_fir(unique_station(), unique_district()))
    assert await backend.ids(FirFilter(district=district)) == [inside[1].id, inside[0].id]


async def test_the_section_filter_matches_the_section_number(backend: Backend) -> None:
    station = unique_station()
    theft = await backend.create(new_fir(station, sections=("303",)))
    both = await backend.create(new_fir(station, sections=("304", "303")))
    await backend.create(new_fir(station, sections=("304",)))
    assert await backend.ids(FirFilter(station=station, section="303")) == [both.id, theft.id]


async def test_the_section_filter_follows_edited_sections(backend: Backend) -> None:
    station = unique_station()
    fir = await backend.create(new_fir(station, sections=("303",)))
    await backend.edit(fir.id, legal_sections=[LegalSectionRef("BNS", "318", "Cheating")])
    found = [await backend.ids(FirFilter(station=station, section=s)) for s in ("303", "318")]
    assert found == [[], [fir.id]]


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ((("<", 1),), [0]),
        ((("<=", 1),), [0, 1]),
        (((">", 1),), [2]),
        (((">=", 1),), [1, 2]),
        (((">=", 1), ("<", 2)), [1]),
    ],
    ids=["lt", "le", "gt", "ge", "ge-and-lt"],
)
async def test_create_time_bounds_include_or_exclude_the_bound_itself(
    backend: Backend, bounds: tuple[tuple[str, int], ...], expected: list[int]
) -> None:
    station = unique_station()
    firs = []
    for _ in range(3):
        firs.append(await backend.create(new_fir(station)))
        backend.clock.advance(seconds=1)
    times = [f.create_time for f in firs]
    flt = FirFilter(station=station, time_bounds=tuple((op, times[n]) for op, n in bounds if times[n]))
    assert await backend.ids(flt, ("create_time", False)) == [firs[n].id for n in expected]


async def test_filters_combine_with_and(backend: Backend) -> None:
    district = unique_district()
    station = unique_station()
    match = await backend.create(new_fir(station, district, ("303",)))
    since = match.create_time
    assert since is not None
    await backend.create(new_fir(station, district, ("304",)))  # another section
    await backend.create(new_fir(unique_station(), district, ("303",)))  # another station
    finalized = await backend.create(new_fir(station, district, ("303",)))
    await backend.edit(finalized.id, status=FirStatus.FINALIZED)
    flt = FirFilter(
        station=station, status=FirStatus.DRAFT, district=district, section="303", time_bounds=((">=", since),)
    )
    assert (await backend.ids(flt), await backend.repo.count(flt)) == ([match.id], 1)


async def test_count_counts_every_match_not_a_page(backend: Backend) -> None:
    station = unique_station()
    for _ in range(3):
        await backend.create(new_fir(station))
    page, _ = await backend.repo.list_page(ListQuery(FirFilter(station=station), "create_time", True, 1))
    assert (len(page), await backend.repo.count(FirFilter(station=station))) == (1, 3)


# --- order and keyset pages ----------------------------------------------------------


async def _ordered_setup(backend: Backend, station: str) -> dict[tuple[str, bool], list[str]]:
    """Five FIRs: two pairs created at the same instant, edited in another order.

    Returns the ids expected in each order (ties broken by storage order, in the same direction)."""
    ids = []
    for pause in (0, 1, 0, 1, 0):
        ids.append((await backend.create(new_fir(station))).id)
        backend.clock.advance(seconds=pause)
    # created at t, t, t+1, t+1, t+2 -> ids[0..4]; edits at t+3 (ids[3], ids[1]) and t+4 (ids[0])
    backend.clock.advance(seconds=1)
    await backend.edit(ids[3], summary="edited")
    await backend.edit(ids[1], summary="edited")
    backend.clock.advance(seconds=1)
    await backend.edit(ids[0], summary="edited")
    # update times: ids[2] t+1, ids[4] t+2, ids[3] t+3, ids[1] t+3, ids[0] t+4
    by_update = [ids[2], ids[4], ids[1], ids[3], ids[0]]  # the tie at t+3 goes by storage order
    return {
        ("create_time", False): ids,
        ("create_time", True): ids[::-1],
        ("update_time", False): by_update,
        ("update_time", True): by_update[::-1],
    }


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: f"{o[0]}-{'desc' if o[1] else 'asc'}")
async def test_lists_follow_the_order_with_ties_broken_by_storage_order(
    backend: Backend, order: tuple[str, bool]
) -> None:
    station = unique_station()
    expected = await _ordered_setup(backend, station)
    assert await backend.ids(FirFilter(station=station), order) == expected[order]


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: f"{o[0]}-{'desc' if o[1] else 'asc'}")
async def test_keyset_pages_walk_the_whole_order_once(backend: Backend, order: tuple[str, bool]) -> None:
    station = unique_station()
    expected = await _ordered_setup(backend, station)
    seen: list[list[str]] = []
    after = None
    while True:
        query = ListQuery(FirFilter(station=station), order[0], order[1], 2, after)
        page, after = await backend.repo.list_page(query)
        seen.append([f.id for f in page])
        if after is None:
            break
    ids = expected[order]
    assert seen == [ids[0:2], ids[2:4], ids[4:5]]


async def test_a_page_that_ends_the_list_has_no_next_keyset(backend: Backend) -> None:
    station = unique_station()
    for _ in range(2):
        await backend.create(new_fir(station))
    _, after = await backend.repo.list_page(ListQuery(FirFilter(station=station), "create_time", True, 2))
    assert after is None


# --- statistics ----------------------------------------------------------------------


@dataclass
class Scene:
    """FIRs of a district over several days, for the statistics tests."""

    district: str
    busy: str
    quiet: str
    today: str
    two_days_ago: str


async def _stats_scene(backend: Backend) -> Scene:
    """Busy station: 3 FIRs (one finalized), quiet station: 1; ten days ago, two days ago and today."""
    district, busy, quiet = unique_district(), unique_station(), unique_station()
    today = backend.clock.now
    plan: list[tuple[str, tuple[str, ...], timedelta]] = [
        (busy, ("303",), timedelta(days=10)),
        (busy, ("303", "304"), timedelta(days=2)),
        (busy, ("303",), timedelta(0)),
        (quiet, ("318",), timedelta(0)),
    ]
    stored = []
    for station, sections, ago in plan:
        backend.clock.now = today - ago
        stored.append(await backend.create(new_fir(station, district, sections)))
    backend.clock.now = today
    await backend.edit(stored[2].id, status=FirStatus.FINALIZED, finalize_time=today)
    day = local_day(today - timedelta(days=2), NUMBERING_OFFSET).isoformat()
    return Scene(district, busy, quiet, local_day(today, NUMBERING_OFFSET).isoformat(), day)


async def _stats(backend: Backend, flt: FirFilter, days: int = 7) -> FirCounts:
    return await backend.repo.stats(flt, days, backend.clock.now)


StatsCase = Callable[[Scene], tuple[FirFilter, FirCounts]]
STATS_CASES: dict[str, StatsCase] = {
    "district": lambda s: (
        FirFilter(district=s.district),
        FirCounts(
            total=4,
            by_status=[("DRAFT", 3), ("FINALIZED", 1)],
            by_station=[(s.busy, 3), (s.quiet, 1)],
            by_section=[("BNS 303", 3), ("BNS 304", 1), ("BNS 318", 1)],
            by_day=[(s.two_days_ago, 1), (s.today, 2)],
        ),
    ),
    "station": lambda s: (
        FirFilter(station=s.quiet),
        FirCounts(1, [("DRAFT", 1)], [(s.quiet, 1)], [("BNS 318", 1)], [(s.today, 1)]),
    ),
    "status": lambda s: (
        FirFilter(district=s.district, status=FirStatus.FINALIZED),
        FirCounts(1, [("FINALIZED", 1)], [(s.busy, 1)], [("BNS 303", 1)], [(s.today, 1)]),
    ),
    "create-time": lambda s: (
        FirFilter(
            station=s.busy, time_bounds=((">=", local_midnight(date.fromisoformat(s.two_days_ago), NUMBERING_OFFSET)),)
        ),
        FirCounts(
            2,
            [("DRAFT", 1), ("FINALIZED", 1)],
            [(s.busy, 2)],
            [("BNS 303", 2), ("BNS 304", 1)],
            [(s.two_days_ago, 1), (s.today, 1)],
        ),
    ),
    "nothing": lambda s: (FirFilter(district=s.district, station=unique_station()), FirCounts(0, [], [], [], [])),
}


@pytest.mark.parametrize("case", STATS_CASES.values(), ids=STATS_CASES.keys())
async def test_stats_count_the_matching_firs(backend: Backend, case: StatsCase) -> None:
    flt, expected = case(await _stats_scene(backend))
    assert await _stats(backend, flt) == expected


async def test_stats_by_day_cover_the_last_days_only(backend: Backend) -> None:
    scene = await _stats_scene(backend)
    windows = [(await _stats(backend, FirFilter(district=scene.district), days)).by_day for days in (1, 3, 30)]
    oldest = local_day(backend.clock.now - timedelta(days=10), NUMBERING_OFFSET).isoformat()
    assert windows == [
        [(scene.today, 2)],
        [(scene.two_days_ago, 1), (scene.today, 2)],
        [(oldest, 1), (scene.two_days_ago, 1), (scene.today, 2)],
    ]


async def test_stats_by_station_put_the_busiest_first_then_by_code(backend: Backend) -> None:
    district = unique_district()
    stations = sorted(unique_station() for _ in range(3))
    for station, count in zip(stations, (1, 2, 1), strict=True):
        for _ in range(count):
            await backend.create(new_fir(station, district))
    counts = await _stats(backend, FirFilter(district=district))
    assert counts.by_station == [(stations[1], 2), (stations[0], 1), (stations[2], 1)]
