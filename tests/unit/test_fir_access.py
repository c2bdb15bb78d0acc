"""Who may see and change which FIRs, one rule per test, through the real
use cases with a fake repository (the same rules hold through the edge: see
tests/e2e/test_access.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from afirgen_fir.bootstrap import build
from afirgen_fir.domain.model import Complainant, Fir, Station
from afirgen_fir.service_layer.fir_service import FirService, ListRequest
from afirgen_fir.service_layer.ports import Change
from afirgen_fir.settings import FirSettings
from afirgen_runtime.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from afirgen_runtime.identity import Caller

from tests.unit.fakes import AUDITOR, FakeFirRepository, change_at, officer

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
OPERATOR = Caller("op-1", "operator", frozenset({"operator"}))
SP_NEW_DELHI = Caller("sp-1", "sp", frozenset({"district_sp"}), district="New Delhi")
SP_ELSEWHERE = Caller("sp-2", "sp2", frozenset({"district_sp"}), district="Lucknow")


@pytest.fixture
async def setup() -> tuple[FirService, Fir]:
    settings = FirSettings(page_token_secret="unit-test-secret-0123456789")
    service = build(settings, repository=FakeFirRepository(lambda: NOW), clock=lambda: NOW).service
    fir = Fir(station=Station("PS-A", district="New Delhi"), complainant=Complainant(name="Gita"), summary="theft")
    created, _ = await service.create(fir, change=change_at("PS-A", "sub_inspector"))
    return service, created


def summary(text: str):  # type: ignore[no-untyped-def]
    return lambda fir: dataclasses.replace(fir, summary=text)


@pytest.mark.parametrize(
    "caller", [officer("PS-A", "constable"), officer("PS-A", "sub_inspector"), SP_NEW_DELHI, AUDITOR]
)
async def test_these_callers_read_the_fir(setup: tuple[FirService, Fir], caller: Caller) -> None:
    service, fir = setup
    assert (await service.get(fir.id, caller=caller)).id == fir.id


@pytest.mark.parametrize("caller", [officer("PS-B", "sho"), SP_ELSEWHERE])
async def test_another_station_or_district_finds_nothing(setup: tuple[FirService, Fir], caller: Caller) -> None:
    service, fir = setup
    with pytest.raises(NotFound):
        await service.get(fir.id, caller=caller)


async def test_an_operator_reads_no_fir(setup: tuple[FirService, Fir]) -> None:
    service, fir = setup
    with pytest.raises(PermissionDenied):
        await service.get(fir.id, caller=OPERATOR)


async def test_an_anonymous_call_is_unauthenticated(setup: tuple[FirService, Fir]) -> None:
    service, fir = setup
    with pytest.raises(Unauthenticated):
        await service.get(fir.id, caller=None)


async def test_another_stations_list_is_empty(setup: tuple[FirService, Fir]) -> None:
    service, _ = setup
    page = await service.list_firs(ListRequest(page_size=10, filter='station = "PS-A"'), caller=officer("PS-B"))
    assert (page.firs, page.total_size) == ([], 0)


async def test_an_unfiltered_list_holds_only_the_callers_station(setup: tuple[FirService, Fir]) -> None:
    service, _ = setup
    other = Fir(station=Station("PS-B", district="New Delhi"), complainant=Complainant(name="Ravi"), summary="hurt")
    await service.create(other, change=change_at("PS-B"))
    page = await service.list_firs(ListRequest(page_size=10), caller=officer("PS-B"))
    assert {f.station.code for f in page.firs} == {"PS-B"}


async def test_statistics_count_only_the_callers_station(setup: tuple[FirService, Fir]) -> None:
    service, _ = setup
    assert (await service.stats("", 0, caller=officer("PS-B"))).total == 0


@pytest.mark.parametrize("role", ["constable", "sub_inspector", "sho"])
async def test_station_officers_edit_their_drafts(setup: tuple[FirService, Fir], role: str) -> None:
    service, fir = setup
    updated = await service.update(fir.id, fir.etag, ["summary"], summary("edited"), change=change_at("PS-A", role))
    assert updated.summary == "edited"


@pytest.mark.parametrize("caller", [SP_NEW_DELHI, AUDITOR, OPERATOR])
async def test_these_callers_do_not_edit(setup: tuple[FirService, Fir], caller: Caller) -> None:
    service, fir = setup
    with pytest.raises(PermissionDenied):
        await service.update(fir.id, fir.etag, ["summary"], summary("x"), change=Change.by(caller, "r"))


async def test_another_stations_officer_cannot_even_find_the_draft_to_edit(setup: tuple[FirService, Fir]) -> None:
    service, fir = setup
    with pytest.raises(NotFound):
        await service.update(fir.id, fir.etag, ["summary"], summary("x"), change=change_at("PS-B"))


@pytest.mark.parametrize("caller", [officer("PS-A", "sho"), SP_NEW_DELHI])
async def test_the_station_house_officer_and_the_superintendent_finalize(
    setup: tuple[FirService, Fir], caller: Caller
) -> None:
    service, fir = setup
    assert (await service.finalize(fir.id, fir.etag, change=Change.by(caller, "r"))).status.value == "FINALIZED"


@pytest.mark.parametrize("role", ["constable", "sub_inspector"])
async def test_junior_officers_do_not_finalize(setup: tuple[FirService, Fir], role: str) -> None:
    service, fir = setup
    with pytest.raises(PermissionDenied):
        await service.finalize(fir.id, fir.etag, change=change_at("PS-A", role))


async def test_officers_create_only_for_their_own_station(setup: tuple[FirService, Fir]) -> None:
    service, _ = setup
    fir = Fir(station=Station("PS-A"), complainant=Complainant(name="Gita"))
    with pytest.raises(PermissionDenied):
        await service.create(fir, change=change_at("PS-B"))


@pytest.mark.parametrize("caller", [SP_NEW_DELHI, AUDITOR, OPERATOR])
async def test_these_callers_create_nothing(setup: tuple[FirService, Fir], caller: Caller) -> None:
    service, _ = setup
    fir = Fir(station=Station("PS-A"), complainant=Complainant(name="Gita"))
    with pytest.raises(PermissionDenied):
        await service.create(fir, change=Change.by(caller, "r"))


async def test_the_audit_trail_names_the_token_subject(setup: tuple[FirService, Fir]) -> None:
    service, fir = setup
    events, _ = await service.events(fir.id, 10, "", caller=AUDITOR)
    assert events[0].actor == "sub_inspector-PS-A"


async def test_a_new_fir_takes_its_district_from_the_officers_token(setup: tuple[FirService, Fir]) -> None:
    service, _ = setup
    fir = Fir(station=Station("PS-A"), complainant=Complainant(name="Gita"))
    created, _ = await service.create(fir, change=change_at("PS-A"))
    assert created.station.district == "New Delhi"


async def test_a_new_fir_of_another_district_is_refused(setup: tuple[FirService, Fir]) -> None:
    service, _ = setup
    fir = Fir(station=Station("PS-A", district="Lucknow"), complainant=Complainant(name="Gita"))
    with pytest.raises(InvalidArgument):
        await service.create(fir, change=change_at("PS-A"))
