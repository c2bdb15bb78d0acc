"""FIR use cases through the real composition root, with a fake repository."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from afirgen.fir.v1 import fir_pb2
from afirgen_fir.bootstrap import build
from afirgen_fir.domain import validation
from afirgen_fir.domain.grounding import Span
from afirgen_fir.domain.model import Complainant, Fir, FirStatus, LegalSectionRef, Person, Station
from afirgen_fir.entrypoints.grpc_servicer import fir_to_proto
from afirgen_fir.service_layer import fir_service
from afirgen_fir.service_layer.fir_service import FirService, ListRequest
from afirgen_fir.settings import FirSettings
from afirgen_runtime.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from afirgen_runtime.proto_mapping import from_message

from tests.unit.fakes import AUDITOR, FakeFirRepository, change_at, officer

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
CHANGE = change_at("PS-1")


@pytest.fixture
def service() -> FirService:
    settings = FirSettings(page_token_secret="unit-test-secret-0123456789")
    return build(settings, repository=FakeFirRepository(lambda: NOW), clock=lambda: NOW).service


def new_fir(station: str = "PS-1") -> Fir:
    return Fir(station=Station(code=station), complainant=Complainant(name="Gita"), summary="theft")


def set_summary(text: str) -> Callable[[Fir], Fir]:
    def apply(current: Fir) -> Fir:
        return dataclasses.replace(current, summary=text)

    return apply


async def test_a_new_fir_is_numbered_per_station_and_year(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    assert fir.fir_number == "PS-1/2026/00001"


async def test_a_hand_entered_fir_is_a_manual_draft(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    assert (fir.status, fir.complaint.source.value) == (FirStatus.DRAFT, "MANUAL")


async def test_an_edit_makes_a_new_etag(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    updated = await service.update(fir.id, fir.etag, ["summary"], set_summary("new"), change=CHANGE)
    assert (updated.summary, updated.etag != fir.etag) == ("new", True)


async def test_a_stale_etag_is_refused_with_the_current_one(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    updated = await service.update(fir.id, fir.etag, ["summary"], set_summary("new"), change=CHANGE)
    with pytest.raises(Aborted) as stale:
        await service.update(fir.id, fir.etag, ["summary"], set_summary("lost"), change=CHANGE)
    assert stale.value.metadata["current_etag"] == updated.etag


@pytest.mark.parametrize(
    ("paths", "etag_ok", "text"), [(["station"], True, "x"), (["summary"], False, "x"), (["summary"], True, "x" * 5000)]
)
async def test_bad_edits_are_refused(service: FirService, paths: list[str], etag_ok: bool, text: str) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    with pytest.raises(InvalidArgument):
        await service.update(fir.id, fir.etag if etag_ok else "", paths, set_summary(text), change=CHANGE)


async def test_an_edit_that_changes_nothing_keeps_the_etag(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    unchanged = await service.update(fir.id, fir.etag, ["summary"], set_summary("theft"), change=CHANGE)
    assert unchanged.etag == fir.etag


async def test_finalizing_stamps_the_time(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    final = await service.finalize(fir.id, fir.etag, change=CHANGE)
    assert (final.status, final.finalize_time) == (FirStatus.FINALIZED, NOW)


async def test_a_finalized_fir_refuses_edits(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    final = await service.finalize(fir.id, fir.etag, change=CHANGE)
    with pytest.raises(FailedPrecondition):
        await service.update(fir.id, final.etag, ["summary"], lambda f: f, change=CHANGE)


async def test_a_finalized_fir_is_not_finalized_twice(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    final = await service.finalize(fir.id, fir.etag, change=CHANGE)
    with pytest.raises(FailedPrecondition):
        await service.finalize(fir.id, final.etag, change=CHANGE)


async def test_a_repeated_finalization_answers_the_finalized_fir_unchanged(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    final = await service.finalize(fir.id, fir.etag, change=CHANGE)
    again = await service.finalize(fir.id, fir.etag, change=CHANGE)
    assert (again.etag, again.finalize_time) == (final.etag, final.finalize_time)


async def test_finalize_needs_a_summary_or_narrative(service: FirService) -> None:
    fir, _ = await service.create(dataclasses.replace(new_fir(), summary=""), change=CHANGE)
    with pytest.raises(FailedPrecondition):
        await service.finalize(fir.id, fir.etag, change=CHANGE)


async def test_a_malformed_id_is_invalid_not_missing(service: FirService) -> None:
    with pytest.raises(InvalidArgument):
        await service.get("1; DROP TABLE firs", caller=AUDITOR)


async def test_an_unknown_id_is_not_found(service: FirService) -> None:
    with pytest.raises(NotFound):
        await service.get("00000000-0000-0000-0000-000000000000", caller=AUDITOR)


async def test_a_list_pages_with_a_total(service: FirService) -> None:
    for _ in range(5):
        await service.create(new_fir("PS-2"), change=change_at("PS-2"))
    page = await service.list_firs(ListRequest(page_size=2, filter='station = "PS-2"'), caller=AUDITOR)
    assert (len(page.firs), page.total_size, bool(page.next_page_token)) == (2, 5, True)


async def test_the_next_page_follows_the_first(service: FirService) -> None:
    for _ in range(5):
        await service.create(new_fir("PS-2"), change=change_at("PS-2"))
    page = await service.list_firs(ListRequest(page_size=2, filter='station = "PS-2"'), caller=AUDITOR)
    nxt = await service.list_firs(
        ListRequest(page_size=2, page_token=page.next_page_token, filter='station = "PS-2"'), caller=AUDITOR
    )
    assert {f.id for f in nxt.firs}.isdisjoint(f.id for f in page.firs)


async def test_a_page_token_is_bound_to_its_filter(service: FirService) -> None:
    for _ in range(3):
        await service.create(new_fir("PS-2"), change=change_at("PS-2"))
    page = await service.list_firs(ListRequest(page_size=2, filter='station = "PS-2"'), caller=AUDITOR)
    with pytest.raises(InvalidArgument):
        await service.list_firs(ListRequest(page_size=2, page_token=page.next_page_token), caller=AUDITOR)


async def test_a_page_read_again_is_not_parsed_again(service: FirService, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = fir_service.parse_fir_filter
    monkeypatch.setattr(fir_service, "parse_fir_filter", lambda text: parsed.append(text) or real(text))
    for _ in range(3):
        await service.list_firs(ListRequest(page_size=2, filter='station = "PS-2"'), caller=AUDITOR)
    assert parsed == ['station = "PS-2"']


async def test_a_kept_query_stays_within_each_callers_station(service: FirService) -> None:
    for station in ("PS-1", "PS-2"):
        await service.create(new_fir(station), change=change_at(station))
    asked = ListRequest(page_size=5)
    mine = await service.list_firs(asked, caller=officer("PS-1"))
    theirs = await service.list_firs(asked, caller=officer("PS-2"))
    assert ({f.station.code for f in mine.firs}, {f.station.code for f in theirs.firs}) == ({"PS-1"}, {"PS-2"})


async def test_a_forged_page_token_is_refused_again_once_refused(service: FirService) -> None:
    asked = ListRequest(page_size=2, page_token="Zm9yZ2Vk")
    with pytest.raises(InvalidArgument):
        await service.list_firs(asked, caller=AUDITOR)
    with pytest.raises(InvalidArgument):
        await service.list_firs(asked, caller=AUDITOR)


async def test_an_unknown_order_is_refused(service: FirService) -> None:
    with pytest.raises(InvalidArgument):
        await service.list_firs(ListRequest(page_size=2, order_by="fir_number"), caller=AUDITOR)


def test_validation_reports_every_problem_at_once() -> None:
    fir = Fir(
        station=Station(code="x"),
        complainant=Complainant(name="", phone="12", email="a@"),
        legal_sections=[LegalSectionRef(act="BNS", section="abc")],
    )
    fields = {v.field for v in validation.violations(fir, NOW)}
    assert {
        "station.code",
        "complainant.name",
        "complainant.phone",
        "complainant.email",
        "legal_sections[0].section",
    } <= fields


@pytest.mark.parametrize(
    ("fir", "field"),
    [
        (Fir(station=Station(code="PS-1", district="d" * 101), complainant=Complainant(name="A")), "station.district"),
        (Fir(station=Station(code="PS-1", state="s" * 101), complainant=Complainant(name="A")), "station.state"),
        (Fir(station=Station(code="PS-1"), complainant=Complainant(name="A", email="a\x00@b.in")), "complainant.email"),
        (Fir(station=Station(code="PS-1"), complainant=Complainant(name="A\x07")), "complainant.name"),
    ],
)
def test_values_that_do_not_fit_their_columns_or_carry_control_characters_are_refused(fir: Fir, field: str) -> None:
    assert field in {v.field for v in validation.violations(fir, NOW)}


def test_a_source_span_must_quote_the_complaint() -> None:
    fir = new_fir()
    fir.complaint.text = "Two men on a red scooter took my chain."
    fir.accused = [Person(description="two men", source=Span(0, 7, "Kulwant"))]
    assert "accused[0].source" in {v.field for v in validation.violations(fir, NOW)}


def test_a_true_source_span_is_accepted() -> None:
    fir = new_fir()
    fir.complaint.text = "Two men on a red scooter took my chain."
    fir.accused = [Person(description="two men on a red scooter", source=Span(0, 24, "Two men on a red scooter"))]
    assert validation.violations(fir, NOW) == []


def test_proto_mapping_round_trips_a_full_fir() -> None:
    fir = Fir(
        id="00000000-0000-0000-0000-000000000001",
        station=Station("PS-1", "Name", "District", "State"),
        complainant=Complainant(name="Gita", phone="+91 99999 11111"),
        legal_sections=[LegalSectionRef("BNS", "303(2)", "Theft", "took a bag", [Span(0, 3, "bag")])],
        create_time=NOW,
        revision=3,
        status=FirStatus.FINALIZED,
    )
    back = from_message(fir_to_proto(fir), Fir)
    assert (back.station, back.legal_sections, back.create_time, back.complainant, back.generation) == (
        fir.station,
        fir.legal_sections,
        NOW,
        fir.complainant,
        None,
    )


def test_an_unknown_enum_number_is_an_invalid_argument() -> None:
    message = fir_pb2.Fir()
    message.complaint.source = 99  # type: ignore[assignment]
    with pytest.raises(InvalidArgument) as bad:
        from_message(message, Fir, path="fir")
    assert [v.field for v in bad.value.violations] == ["fir.complaint.source"]
