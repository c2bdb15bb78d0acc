"""FIR caching through the real composition root, with a fake repository and an
in-memory cache: cache-aside reads, invalidation by every write, the codec."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from afirgen.fir.v1 import fir_pb2
from afirgen_fir.adapters import fir_codec
from afirgen_fir.adapters.cache_scopes import scope_of
from afirgen_fir.adapters.cached_legal_repository import NS_LEGAL, CachedLegalRepository
from afirgen_fir.adapters.cached_repository import NS_FIR, NS_LIST, NS_STATS, CachedFirRepository
from afirgen_fir.bootstrap import build
from afirgen_fir.domain.counts import local_day
from afirgen_fir.domain.errors import FirNotFound
from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.domain.model import (
    Complainant,
    Date,
    Fir,
    FirStatus,
    GenerationInfo,
    Incident,
    LegalSectionRef,
    Person,
    Station,
)
from afirgen_fir.domain.queries import FirFilter, ListQuery
from afirgen_fir.entrypoints.grpc_servicer import fir_to_proto
from afirgen_fir.service_layer.fir_service import FirService, ListRequest
from afirgen_fir.service_layer.ports import FirCounts, SerializedFir
from afirgen_fir.settings import FirSettings, NearPagesSettings
from afirgen_runtime.errors import Aborted
from afirgen_runtime.interceptors import sends_bytes_as_is
from afirgen_runtime.near_cache import ENTRY_OVERHEAD_BYTES, NearCache, NearCacheSettings
from afirgen_runtime.pagination import PageTokens

from tests.unit.fake_cache import InMemoryCache
from tests.unit.fakes import AUDITOR, FakeFirRepository, change_at, officer

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
CHANGE = change_at("PS-1")


class CountingRepository(FakeFirRepository):
    """Counts reads that reach the "database"."""

    def __init__(self) -> None:
        super().__init__(lambda: NOW)
        self.reads = 0
        self.list_reads = 0
        self.stats_reads = 0

    async def get(self, fir_id: str, fields: frozenset[str] = frozenset()) -> Fir | None:
        self.reads += 1
        return await super().get(fir_id, fields)

    async def list_page(self, query: ListQuery) -> tuple[list[Fir], tuple[str, int] | None]:
        self.list_reads += 1
        return await super().list_page(query)

    async def stats(self, flt: FirFilter, days: int, now: datetime) -> FirCounts:
        self.stats_reads += 1
        return await super().stats(flt, days, now)


@pytest.fixture
def repo() -> CountingRepository:
    return CountingRepository()


@pytest.fixture
def cache() -> InMemoryCache:
    return InMemoryCache()


def replica(repo: CountingRepository, cache: InMemoryCache) -> FirService:
    """A fir process over ``repo`` and ``cache`` (several share them, each with its own near caches)."""
    settings = FirSettings(page_token_secret="unit-test-secret-0123456789")
    return build(settings, repository=repo, clock=lambda: NOW, cache=cache).service


@pytest.fixture
def service(repo: CountingRepository, cache: InMemoryCache) -> FirService:
    return replica(repo, cache)


def new_fir(station: str = "PS-1") -> Fir:
    return Fir(station=Station(code=station), complainant=Complainant(name="Gita"), summary="theft")


def set_summary(text: str):  # type: ignore[no-untyped-def]
    def apply(current: Fir) -> Fir:
        return dataclasses.replace(current, summary=text)

    return apply


async def test_get_is_cache_aside_and_one_entry_serves_every_read_mask(
    service: FirService, repo: CountingRepository, cache: InMemoryCache
) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    first = await service.get(fir.id, caller=AUDITOR)
    masked = await service.get(fir.id, frozenset({"summary"}), caller=AUDITOR)
    again = await service.get(fir.id, caller=AUDITOR)
    assert repo.reads == 1 and cache.loads == 1
    assert first == again == fir and masked.summary == "theft" and masked.etag == fir.etag


async def test_every_write_invalidates_before_it_answers(service: FirService, cache: InMemoryCache) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    await service.get(fir.id, caller=AUDITOR)
    page = await service.list_firs(ListRequest(page_size=10, filter='station = "PS-1"'), caller=AUDITOR)
    assert page.total_size == 1
    assert (await service.stats("", 0, caller=AUDITOR)).total == 1
    assert {ns for ns, _ in cache.entries} == {NS_FIR, NS_LIST, NS_STATS}

    updated = await service.update(fir.id, fir.etag, ["summary"], set_summary("edited"), change=CHANGE)
    assert (await service.get(fir.id, caller=AUDITOR)).summary == "edited"
    page = await service.list_firs(ListRequest(page_size=10, filter='station = "PS-1"'), caller=AUDITOR)
    assert [f.summary for f in page.firs] == ["edited"]

    await service.create(new_fir(), change=CHANGE)
    page = await service.list_firs(ListRequest(page_size=10, filter='station = "PS-1"'), caller=AUDITOR)
    assert page.total_size == 2 and len(page.firs) == 2
    assert (await service.stats("", 0, caller=AUDITOR)).total == 2

    final = await service.finalize(fir.id, updated.etag, change=CHANGE)
    assert (await service.get(fir.id, caller=AUDITOR)).status is FirStatus.FINALIZED
    stats = await service.stats("", 0, caller=AUDITOR)
    assert dict(stats.by_status) == {"DRAFT": 1, "FINALIZED": 1}
    assert final.etag == (await service.get(fir.id, caller=AUDITOR)).etag


async def test_a_failed_write_still_invalidates(service: FirService, cache: InMemoryCache) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    await service.get(fir.id, caller=AUDITOR)
    assert (NS_FIR, fir.id) in cache.entries
    with pytest.raises(Aborted):
        await service.update(fir.id, "stale-etag", ["summary"], set_summary("x"), change=CHANGE)
    assert (NS_FIR, fir.id) not in cache.entries


async def test_finalized_firs_are_also_kept_in_process(
    service: FirService, repo: CountingRepository, cache: InMemoryCache
) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    await service.finalize(fir.id, fir.etag, change=CHANGE)
    await service.get(fir.id, caller=AUDITOR)  # miss: loads and remembers the immutable FIR
    cache.entries.clear()
    reads = repo.reads
    assert (await service.get(fir.id, caller=AUDITOR)).status is FirStatus.FINALIZED
    assert repo.reads == reads and cache.loads == 1  # neither the cache nor the database


async def test_undecodable_entries_fall_back_to_the_database(
    service: FirService, repo: CountingRepository, cache: InMemoryCache
) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    cache.entries[(NS_FIR, fir.id)] = b"\x09garbage"
    assert (await service.get(fir.id, caller=AUDITOR)).id == fir.id and repo.reads == 1
    # Another process fills the cache: this one has no copy of the page in its near cache.
    await replica(repo, cache).list_firs(ListRequest(page_size=10), caller=AUDITOR)
    listed = [k for k in cache.entries if k[0] == NS_LIST and not k[1].startswith("gen:")]
    assert len(listed) == 2  # the page and the total
    for key in listed:
        cache.entries[key] = b"junk"
    page = await service.list_firs(ListRequest(page_size=10), caller=AUDITOR)
    assert page.total_size == 1 and [f.id for f in page.firs] == [fir.id]


def full_fir() -> Fir:
    return Fir(
        id="3f1c9a4e-7d0b-4c55-9a43-2b4d2f0e6a11",
        fir_number="PS-1/2026/00007",
        status=FirStatus.FINALIZED,
        station=Station("PS-1", "Central", "New Delhi", "Delhi"),
        complainant=Complainant(name="Gita", date_of_birth=Date(1990, 4, 12), phone="+91 98100 12345"),
        incident=Incident(occurred_from=NOW, place="market", distance_km=1.25, reporting_delay_hours=0.5),
        accused=[Person(name="unknown", description="tall")],
        summary="theft",
        narrative="long text",
        legal_sections=[LegalSectionRef("BNS", "303", "Theft", "phone")],
        generation=GenerationInfo("model", "v1", {"draft": 12.5}),
        create_time=NOW,
        update_time=NOW,
        finalize_time=NOW,
        revision=4,
    )


def test_codec_round_trips_firs_pages_counts_and_stats() -> None:
    fir = full_fir()
    assert fir_codec.decode_fir(fir_codec.encode_fir(fir)) == fir
    partial = Fir(id=fir.id, status=FirStatus.DRAFT, revision=2, create_time=NOW, update_time=NOW)
    assert fir_codec.decode_fir(fir_codec.encode_fir(partial)) == partial
    page = ([fir, partial], (NOW.isoformat(), 42))
    assert fir_codec.decode_page(fir_codec.encode_page(*page)) == page
    assert fir_codec.decode_page(fir_codec.encode_page([], None)) == ([], None)
    assert fir_codec.decode_count(fir_codec.encode_count(12345)) == 12345
    stats = FirCounts(3, [("DRAFT", 2), ("FINALIZED", 1)], [("PS-1", 3)], [("BNS 303", 1)], [("2026-11-28", 3)])
    assert fir_codec.decode_stats(fir_codec.encode_stats(stats)) == stats
    for bad in (b"", b"\x02" + b"\x00" * 8, b"\x01\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff"):
        with pytest.raises(fir_codec.CodecError):
            fir_codec.decode_fir(bad)
    with pytest.raises(fir_codec.CodecError):
        fir_codec.decode_page(b"\x01\x00\x00\x00\x05[1,")
    with pytest.raises(fir_codec.CodecError):
        fir_codec.decode_count(b"12x")


def test_a_page_decoded_again_gives_back_the_same_firs() -> None:
    entry = fir_codec.encode_page([full_fir()], (NOW.isoformat(), 42))
    first, _ = fir_codec.decode_page_serialized(entry)
    again, _ = fir_codec.decode_page_serialized(entry)
    assert again is first


def test_a_page_over_the_kept_size_is_decoded_each_time() -> None:
    fir = full_fir()
    firs = [dataclasses.replace(fir, id=f"{i:08d}" + fir.id[8:]) for i in range(300)]
    entry = fir_codec.encode_page(firs, None)
    assert len(entry) > fir_codec.KEPT_PAGE_BYTES
    assert fir_codec.decode_page_serialized(entry)[0] is not fir_codec.decode_page_serialized(entry)[0]


def test_a_corrupt_page_is_refused_again_once_refused() -> None:
    corrupt = b"\x01\x00\x00\x00\x05[1,"
    with pytest.raises(fir_codec.CodecError):
        fir_codec.decode_page_serialized(corrupt)
    with pytest.raises(fir_codec.CodecError):
        fir_codec.decode_page_serialized(corrupt)


def test_stats_key_depends_on_the_local_day_only() -> None:
    ist = timedelta(minutes=330)
    morning = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # 00:00 IST on 28 November
    evening = datetime(2026, 11, 28, 18, 29, tzinfo=UTC)  # 23:59 IST
    assert local_day(morning, ist) == local_day(evening, ist) != local_day(evening + timedelta(minutes=1), ist)


class CountingLegal:
    """A knowledge base of one section that counts searches."""

    def __init__(self) -> None:
        self.searches = 0

    async def search(self, query: str, limit: int) -> list[LegalSection]:
        self.searches += 1
        return [LegalSection("BNS", "303", "Theft", cognizable=True, score=float(limit))]


async def test_legal_searches_are_cached_per_query_and_limit() -> None:
    inner, cache = CountingLegal(), InMemoryCache()
    legal = CachedLegalRepository(inner, cache)
    first = await legal.search("stolen phone", 5)
    assert await legal.search("stolen phone", 5) == first and inner.searches == 1
    assert (await legal.search("stolen phone", 3))[0].score == 3.0 and inner.searches == 2
    for key in list(cache.entries):
        cache.entries[key] = b"{not json"
    assert await legal.search("stolen phone", 5) == first and inner.searches == 3  # fallback
    await cache.invalidate(NS_LEGAL)
    assert cache.entries == {}


# --- cached reads served as bytes, and the near cache ---------------------------------


class LiveNear(NearCache[SerializedFir]):
    """A near cache whose feed is connected and heard from (a draft is served from it)."""

    def __init__(self) -> None:
        super().__init__(NS_FIR, NearCacheSettings(16, 3600.0))
        self.connected()
        self.heard()


@pytest.fixture
def near() -> LiveNear:
    return LiveNear()


@pytest.fixture
def cached(repo: CountingRepository, cache: InMemoryCache, near: LiveNear) -> FirService:
    wrapped = CachedFirRepository(repo, cache, utc_offset=timedelta(minutes=330), near=near)
    return FirService(wrapped, PageTokens(b"unit-test-secret-0123456789"), lambda: NOW, wrapped)


async def test_a_hit_is_the_message_getfir_sends_byte_for_byte(cached: FirService) -> None:
    fir, _ = await cached.create(new_fir(), change=CHANGE)
    await cached.get_serialized(fir.id, caller=AUDITOR)
    hit = await cached.get_serialized(fir.id, caller=AUDITOR)
    assert hit is not None and hit.data == fir_to_proto(fir).SerializeToString()


async def test_a_hit_carries_what_the_headers_need(cached: FirService) -> None:
    fir, _ = await cached.create(new_fir(), change=CHANGE)
    hit = await cached.get_serialized(fir.id, caller=AUDITOR)
    assert hit is not None and (hit.etag, hit.status, hit.station) == (fir.etag, FirStatus.DRAFT, "PS-1")


async def test_a_reader_of_another_station_gets_not_found_from_the_bytes(cached: FirService) -> None:
    fir, _ = await cached.create(new_fir(), change=CHANGE)
    await cached.get_serialized(fir.id, caller=AUDITOR)  # now cached and in the near cache
    with pytest.raises(FirNotFound):
        await cached.get_serialized(fir.id, caller=officer("PS-2"))


async def test_a_superintendent_of_another_district_gets_not_found_from_the_bytes(cached: FirService) -> None:
    fir, _ = await cached.create(new_fir(), change=CHANGE)
    await cached.get_serialized(fir.id, caller=AUDITOR)
    with pytest.raises(FirNotFound):
        await cached.get_serialized(fir.id, caller=officer("", "district_sp", district="Mumbai"))


async def test_a_finalized_fir_is_served_from_the_near_cache(cached: FirService, cache: InMemoryCache) -> None:
    fir, _ = await cached.create(new_fir(), change=CHANGE)
    await cached.finalize(fir.id, fir.etag, change=CHANGE)
    await cached.get_serialized(fir.id, caller=AUDITOR)
    cache.entries.clear()  # neither the cache service nor the database is asked again
    loads = cache.loads
    await cached.get_serialized(fir.id, caller=AUDITOR)
    assert cache.loads == loads


async def test_a_draft_is_served_from_the_near_cache_while_the_feed_is_live(
    cached: FirService, cache: InMemoryCache
) -> None:
    fir, _ = await cached.create(new_fir(), change=CHANGE)
    await cached.get_serialized(fir.id, caller=AUDITOR)
    cache.entries.clear()
    loads = cache.loads
    await cached.get_serialized(fir.id, caller=AUDITOR)
    assert cache.loads == loads


async def test_a_draft_is_read_from_the_cache_service_when_the_feed_is_not_live(
    cached: FirService, cache: InMemoryCache, near: LiveNear
) -> None:
    """Another fir replica may have edited it: without the feed, the near cache cannot know."""
    fir, _ = await cached.create(new_fir(), change=CHANGE)
    await cached.get_serialized(fir.id, caller=AUDITOR)
    near.disconnected()
    cache.entries.clear()
    loads = cache.loads
    await cached.get_serialized(fir.id, caller=AUDITOR)
    assert cache.loads == loads + 1


async def test_the_writer_reads_its_own_edit_at_once(cached: FirService) -> None:
    fir, _ = await cached.create(new_fir(), change=CHANGE)
    await cached.get_serialized(fir.id, caller=AUDITOR)  # the old draft is cached
    edited = await cached.update(fir.id, fir.etag, ["summary"], set_summary("edited"), change=CHANGE)
    again = await cached.get_serialized(fir.id, caller=AUDITOR)
    assert again is not None and again.etag == edited.etag


def test_a_serialized_entry_keeps_its_header_beside_the_message() -> None:
    fir = full_fir()
    found = fir_codec.decode_serialized(fir.id, fir_codec.encode_fir(fir))
    assert (found.revision, found.status, found.station, found.district, found.etag) == (
        4,
        FirStatus.FINALIZED,
        "PS-1",
        "New Delhi",
        fir.etag,
    )


def test_a_truncated_header_is_a_codec_error() -> None:
    data = fir_codec.encode_fir(full_fir())
    with pytest.raises(fir_codec.CodecError):
        fir_codec.decode_serialized("x", data[:12])


def test_bytes_responses_are_sent_as_they_are() -> None:
    serialize = sends_bytes_as_is(fir_pb2.Fir.SerializeToString)
    assert serialize is not None and serialize(b"\x0a\x01x") == b"\x0a\x01x"


def test_message_responses_are_still_serialized() -> None:
    serialize = sends_bytes_as_is(fir_pb2.Fir.SerializeToString)
    assert serialize is not None and serialize(fir_pb2.Fir(id="x")) == fir_pb2.Fir(id="x").SerializeToString()


async def test_a_page_read_again_is_served_from_the_near_cache(
    service: FirService, repo: CountingRepository, cache: InMemoryCache
) -> None:
    await service.create(new_fir(), change=CHANGE)
    await service.list_firs(ListRequest(page_size=10), caller=AUDITOR)
    cache.entries = {k: v for k, v in cache.entries.items() if k[1].startswith("gen:")}  # the tokens stay
    loads, reads = cache.loads, repo.list_reads
    await service.list_firs(ListRequest(page_size=10), caller=AUDITOR)
    assert (cache.loads, repo.list_reads) == (loads, reads)


async def test_a_fir_larger_than_the_near_caches_byte_bound_is_read_from_the_cache_service_again(
    repo: CountingRepository, cache: InMemoryCache
) -> None:
    bound = NearCacheSettings(max_bytes=ENTRY_OVERHEAD_BYTES + 10)  # a scope token fits, a FIR not
    settings = FirSettings(page_token_secret="unit-test-secret-0123456789", near_cache=bound)
    service = build(settings, repository=repo, clock=lambda: NOW, cache=cache).service
    fir, _ = await service.create(new_fir(), change=CHANGE)
    await service.finalize(fir.id, fir.etag, change=CHANGE)
    await service.get_serialized(fir.id, caller=AUDITOR)
    cache.entries.clear()
    reads = repo.reads
    await service.get_serialized(fir.id, caller=AUDITOR)
    assert repo.reads == reads + 1


async def test_a_page_larger_than_the_near_caches_byte_bound_is_read_from_the_cache_service_again(
    repo: CountingRepository, cache: InMemoryCache
) -> None:
    bound = NearPagesSettings(max_bytes=2 * ENTRY_OVERHEAD_BYTES + 10)  # a total fits, a page not
    settings = FirSettings(page_token_secret="unit-test-secret-0123456789", near_pages=bound)
    service = build(settings, repository=repo, clock=lambda: NOW, cache=cache).service
    await service.create(new_fir(), change=CHANGE)
    await service.list_firs(ListRequest(page_size=10), caller=AUDITOR)
    cache.entries = {k: v for k, v in cache.entries.items() if k[1].startswith("gen:")}  # the tokens stay
    reads = repo.list_reads
    await service.list_firs(ListRequest(page_size=10), caller=AUDITOR)
    assert repo.list_reads == reads + 1


async def test_a_write_elsewhere_in_scope_makes_the_near_page_unused(repo: CountingRepository) -> None:
    """The page's key carries its scope's token, which the writer's process deleted (the reader,
    with no live feed here, reads its tokens from the cache service each time)."""
    cache = InMemoryCache()
    reader, writer = replica(repo, cache), replica(repo, cache)
    await reader.list_firs(ListRequest(page_size=10), caller=AUDITOR)
    created, _ = await writer.create(new_fir(), change=CHANGE)
    page = await reader.list_firs(ListRequest(page_size=10), caller=AUDITOR)
    assert [f.id for f in page.firs] == [created.id]


# --- invalidation scoped by what a write changes ---------------------------------------


async def page_loads(service: FirService, repo: CountingRepository, flt: str) -> int:
    """Reads a first page and its total; returns how many list reads reached the "database"."""
    before = repo.list_reads
    await service.list_firs(ListRequest(page_size=10, filter=flt), caller=AUDITOR)
    return repo.list_reads - before


async def test_a_write_leaves_other_stations_lists_cached(service: FirService, repo: CountingRepository) -> None:
    await service.create(new_fir("PS-2"), change=change_at("PS-2"))
    await page_loads(service, repo, 'station = "PS-2"')
    await service.create(new_fir("PS-1"), change=CHANGE)
    assert await page_loads(service, repo, 'station = "PS-2"') == 0


async def test_a_write_makes_its_own_stations_lists_stale(service: FirService, repo: CountingRepository) -> None:
    await page_loads(service, repo, 'station = "PS-1"')
    await service.create(new_fir("PS-1"), change=CHANGE)
    page = await service.list_firs(ListRequest(page_size=10, filter='station = "PS-1"'), caller=AUDITOR)
    assert page.total_size == 1


async def test_a_write_makes_the_unfiltered_lists_stale(service: FirService, repo: CountingRepository) -> None:
    await page_loads(service, repo, "")
    await service.create(new_fir("PS-9"), change=change_at("PS-9"))
    page = await service.list_firs(ListRequest(page_size=10), caller=AUDITOR)
    assert page.total_size == 1


async def test_finalizing_makes_the_finalized_lists_of_its_station_stale(service: FirService) -> None:
    fir, _ = await service.create(new_fir("PS-1"), change=CHANGE)
    flt = 'station = "PS-1" AND status = FINALIZED'
    await service.list_firs(ListRequest(page_size=10, filter=flt), caller=AUDITOR)
    await service.finalize(fir.id, fir.etag, change=CHANGE)
    page = await service.list_firs(ListRequest(page_size=10, filter=flt), caller=AUDITOR)
    assert [f.id for f in page.firs] == [fir.id]


async def test_a_write_leaves_other_stations_statistics_cached(service: FirService, repo: CountingRepository) -> None:
    await service.stats('station = "PS-2"', 0, caller=AUDITOR)
    before = repo.stats_reads
    await service.create(new_fir("PS-1"), change=CHANGE)
    await service.stats('station = "PS-2"', 0, caller=AUDITOR)
    assert repo.stats_reads == before


async def test_a_write_makes_its_districts_statistics_stale(service: FirService) -> None:
    await service.stats('district = "New Delhi"', 0, caller=AUDITOR)
    await service.create(new_fir("PS-1"), change=CHANGE)  # the officer's district: New Delhi
    assert (await service.stats('district = "New Delhi"', 0, caller=AUDITOR)).total == 1


def test_the_scope_of_a_filter_is_its_station_else_district_else_all_with_its_status() -> None:
    assert [
        scope_of(FirFilter(station="PS-1", district="X", status=FirStatus.DRAFT)),
        scope_of(FirFilter(district="New Delhi")),
        scope_of(FirFilter()),
    ] == ["gen:st:ps-1:DRAFT", "gen:di:new delhi:any", "gen:all:any"]


async def test_a_cached_page_is_the_firs_listfirs_sends_byte_for_byte(cached: FirService) -> None:
    fir, _ = await cached.create(new_fir(), change=CHANGE)
    asked = ListRequest(page_size=10, filter='station = "PS-1"')
    await cached.list_serialized(asked, caller=AUDITOR)
    page = await cached.list_serialized(asked, caller=AUDITOR)
    assert page is not None and page.data == fir_pb2.ListFirsResponse(firs=[fir_to_proto(fir)]).SerializeToString()


async def test_a_serialized_page_carries_its_total(cached: FirService) -> None:
    await cached.create(new_fir(), change=CHANGE)
    await cached.create(new_fir(), change=CHANGE)
    page = await cached.list_serialized(ListRequest(page_size=1), caller=AUDITOR)
    assert page is not None and (page.total_size, bool(page.next_page_token)) == (2, True)


async def test_a_serialized_page_of_another_station_is_empty(cached: FirService) -> None:
    await cached.create(new_fir(), change=CHANGE)
    page = await cached.list_serialized(ListRequest(page_size=10, filter='station = "PS-1"'), caller=officer("PS-2"))
    assert page is not None and (page.data, page.total_size) == (b"", 0)


async def test_a_refused_edit_leaves_the_cached_lists(service: FirService, repo: CountingRepository) -> None:
    fir, _ = await service.create(new_fir("PS-1"), change=CHANGE)
    await page_loads(service, repo, 'station = "PS-1"')
    with pytest.raises(Aborted):
        await service.update(fir.id, "stale-etag", ["summary"], set_summary("x"), change=CHANGE)
    assert await page_loads(service, repo, 'station = "PS-1"') == 0


# --- statistics served as bytes, and their near copy -------------------------------------


def live(near: NearCache[bytes]) -> NearCache[bytes]:
    """``near`` with its feed connected and just heard from."""
    near.connected()
    near.heard()
    return near


def with_stats_copy(repo: CountingRepository, cache: InMemoryCache, stats: NearCache[bytes]) -> FirService:
    """A fir process whose statistics copy is ``stats``."""
    wrapped = CachedFirRepository(repo, cache, utc_offset=timedelta(minutes=330), stats=stats)
    return FirService(wrapped, PageTokens(b"unit-test-secret-0123456789"), lambda: NOW, wrapped)


def keep_tokens_only(cache: InMemoryCache) -> None:
    """The cache service lost everything but the scopes' tokens (so the keys stay the same)."""
    cache.entries = {k: v for k, v in cache.entries.items() if k[1].startswith("gen:")}


async def stats_reads_of_a_second_read(service: FirService, repo: CountingRepository, cache: InMemoryCache) -> int:
    """Reads statistics, empties the cache service but for the tokens, reads them again; how many
    of the second read's statistics reached the "database"."""
    await service.stats_serialized("", 0, caller=AUDITOR)
    keep_tokens_only(cache)
    before = repo.stats_reads
    await service.stats_serialized("", 0, caller=AUDITOR)
    return repo.stats_reads - before


async def test_statistics_read_again_are_served_from_the_near_copy_while_the_feed_is_live(
    repo: CountingRepository, cache: InMemoryCache
) -> None:
    service = with_stats_copy(repo, cache, live(NearCache(NS_STATS, NearCacheSettings(16, 3600.0))))
    await service.create(new_fir(), change=CHANGE)
    assert await stats_reads_of_a_second_read(service, repo, cache) == 0


async def test_statistics_are_not_kept_near_while_the_feed_is_not_live(
    repo: CountingRepository, cache: InMemoryCache
) -> None:
    service = with_stats_copy(repo, cache, NearCache(NS_STATS, NearCacheSettings(16, 3600.0)))
    await service.create(new_fir(), change=CHANGE)
    assert await stats_reads_of_a_second_read(service, repo, cache) == 1


async def test_a_namespace_invalidation_from_the_feed_drops_the_near_statistics(
    repo: CountingRepository, cache: InMemoryCache
) -> None:
    stats = live(NearCache(NS_STATS, NearCacheSettings(16, 3600.0)))
    service = with_stats_copy(repo, cache, stats)
    await service.stats_serialized("", 0, caller=AUDITOR)
    stats.apply([], whole_namespace=True)
    keep_tokens_only(cache)
    before = repo.stats_reads
    await service.stats_serialized("", 0, caller=AUDITOR)
    assert repo.stats_reads == before + 1


async def test_a_statistics_hit_is_the_message_getfirstats_sends_byte_for_byte(
    repo: CountingRepository, cache: InMemoryCache
) -> None:
    service = with_stats_copy(repo, cache, live(NearCache(NS_STATS, NearCacheSettings(16, 3600.0))))
    await service.create(new_fir(), change=CHANGE)
    await service.stats_serialized("", 0, caller=AUDITOR)
    hit = await service.stats_serialized("", 0, caller=AUDITOR)
    assert hit == fir_codec.stats_message(await repo.stats(FirFilter(), 30, NOW)).SerializeToString()


async def test_statistics_of_a_station_the_caller_may_not_read_are_an_empty_message(cached: FirService) -> None:
    await cached.create(new_fir("PS-1"), change=CHANGE)
    assert await cached.stats_serialized('station = "PS-1"', 0, caller=officer("PS-2")) == b""


async def test_an_undecodable_statistics_entry_is_computed_again(
    service: FirService, repo: CountingRepository, cache: InMemoryCache
) -> None:
    await service.create(new_fir(), change=CHANGE)
    await replica(repo, cache).stats_serialized("", 0, caller=AUDITOR)  # another process fills the cache
    for key in [k for k in cache.entries if k[0] == NS_STATS]:
        cache.entries[key] = b"\x09garbage"
    stats = fir_pb2.FirStats.FromString(await service.stats_serialized("", 0, caller=AUDITOR) or b"")
    assert stats.total == 1
