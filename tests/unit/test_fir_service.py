"""FIR use cases through the real composition root, with a fake repository."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from afirgen.fir.v1 import fir_pb2
from afirgen_fir.bootstrap import build
from afirgen_fir.domain import validation
from afirgen_fir.domain.model import Complainant, Fir, FirStatus, LegalSectionRef, Station
from afirgen_fir.entrypoints.grpc_servicer import fir_to_proto
from afirgen_fir.service_layer.fir_service import FirService
from afirgen_fir.service_layer.ports import Change
from afirgen_fir.settings import FirSettings
from afirgen_runtime.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from afirgen_runtime.proto_mapping import from_message

from tests.unit.fakes import FakeFirRepository

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
CHANGE = Change("SI Test", "req")


@pytest.fixture
def service() -> FirService:
    settings = FirSettings(page_token_secret="unit-test-secret-0123456789")
    return build(settings, repository=FakeFirRepository(lambda: NOW), clock=lambda: NOW).service


def new_fir(station: str = "PS-1") -> Fir:
    return Fir(station=Station(code=station), complainant=Complainant(name="Gita"), summary="theft")


async def test_create_assigns_draft_and_manual_source(service: FirService) -> None:
    fir, created = await service.create(new_fir(), change=CHANGE)
    assert created and fir.status is FirStatus.DRAFT and fir.fir_number == "PS-1/2026/00001"
    assert fir.complaint.source.value == "MANUAL"


async def test_update_checks_etag_mask_and_validity(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)

    def set_summary(text: str):  # type: ignore[no-untyped-def]
        def apply(current: Fir) -> Fir:
            return dataclasses.replace(current, summary=text)

        return apply

    updated = await service.update(fir.id, fir.etag, ["summary"], set_summary("new"), change=CHANGE)
    assert updated.summary == "new" and updated.etag != fir.etag
    with pytest.raises(Aborted) as stale:
        await service.update(fir.id, fir.etag, ["summary"], set_summary("lost"), change=CHANGE)
    assert stale.value.metadata["current_etag"] == updated.etag
    with pytest.raises(InvalidArgument):
        await service.update(fir.id, updated.etag, ["station"], set_summary("x"), change=CHANGE)
    with pytest.raises(InvalidArgument):
        await service.update(fir.id, "", ["summary"], set_summary("x"), change=CHANGE)
    with pytest.raises(InvalidArgument):
        await service.update(fir.id, updated.etag, ["summary"], set_summary("x" * 5000), change=CHANGE)
    unchanged = await service.update(fir.id, updated.etag, ["summary"], set_summary("new"), change=CHANGE)
    assert unchanged.etag == updated.etag  # no change, no new revision


async def test_finalized_firs_never_change(service: FirService) -> None:
    fir, _ = await service.create(new_fir(), change=CHANGE)
    final = await service.finalize(fir.id, fir.etag, change=CHANGE)
    assert final.status is FirStatus.FINALIZED and final.finalize_time == NOW
    with pytest.raises(FailedPrecondition):
        await service.update(fir.id, final.etag, ["summary"], lambda f: f, change=CHANGE)
    with pytest.raises(FailedPrecondition):
        await service.finalize(fir.id, final.etag, change=CHANGE)


async def test_finalize_needs_a_summary_or_narrative(service: FirService) -> None:
    fir, _ = await service.create(dataclasses.replace(new_fir(), summary=""), change=CHANGE)
    with pytest.raises(FailedPrecondition):
        await service.finalize(fir.id, fir.etag, change=CHANGE)


async def test_ids_are_checked_before_lookup(service: FirService) -> None:
    with pytest.raises(InvalidArgument):
        await service.get("1; DROP TABLE firs")
    with pytest.raises(NotFound):
        await service.get("00000000-0000-0000-0000-000000000000")


async def test_list_pages_and_binds_tokens(service: FirService) -> None:
    for _ in range(5):
        await service.create(new_fir("PS-2"), change=CHANGE)
    page = await service.list_firs(size=2, token="", filter_text='station = "PS-2"', order_by="", fields=frozenset())
    assert len(page.firs) == 2 and page.total_size == 5 and page.next_page_token
    nxt = await service.list_firs(
        size=2, token=page.next_page_token, filter_text='station = "PS-2"', order_by="", fields=frozenset()
    )
    assert {f.id for f in nxt.firs}.isdisjoint(f.id for f in page.firs)
    with pytest.raises(InvalidArgument):
        await service.list_firs(size=2, token=page.next_page_token, filter_text="", order_by="", fields=frozenset())
    with pytest.raises(InvalidArgument):
        await service.list_firs(size=2, token="", filter_text="", order_by="fir_number", fields=frozenset())


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


def test_proto_mapping_round_trips_a_full_fir() -> None:
    fir = Fir(
        id="00000000-0000-0000-0000-000000000001",
        station=Station("PS-1", "Name", "District", "State"),
        complainant=Complainant(name="Gita", phone="+91 99999 11111"),
        legal_sections=[LegalSectionRef("BNS", "303(2)", "Theft", "took a bag")],
        create_time=NOW,
        revision=3,
        status=FirStatus.FINALIZED,
    )
    message = fir_to_proto(fir)
    assert message.status == fir_pb2.FIR_STATUS_FINALIZED and message.etag == fir.etag
    back = from_message(message, Fir)
    assert back.station == fir.station and back.legal_sections == fir.legal_sections and back.create_time == NOW
    assert back.complainant == fir.complainant and back.generation is None
