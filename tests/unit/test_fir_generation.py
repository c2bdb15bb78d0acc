"""Generation use cases with fake models: sections only from candidates, rule
facts win and survive, nothing stored on failure, idempotent without model calls."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from afirgen_fir.bootstrap import build
from afirgen_fir.domain.facts import extract
from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.domain.model import Complainant, ComplaintSource, Station
from afirgen_fir.service_layer.generation_service import GenerationRequest, GenerationService
from afirgen_fir.service_layer.ports import Change, IdempotencyKey, ModelReply
from afirgen_fir.settings import FirSettings
from afirgen_runtime.errors import FailedPrecondition, InvalidArgument, Unavailable

from tests.unit.fakes import FakeFirRepository

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
CHANGE = Change("SI Test", "req")
COMPLAINT = (
    "On the night of 12 March 2026 I parked my black motorcycle, registration UP15 AB 4521, outside my house "
    "around 10:30 pm. At 6 am it was gone. It is worth about 55,000 rupees."
)


class FakeLegal:
    def __init__(self) -> None:
        self.sections = [
            LegalSection("BNS", "303", "Theft", "taking property dishonestly"),
            LegalSection("BNS", "305", "Theft in a dwelling house", "theft in a house"),
        ]

    async def search(self, query: str, limit: int) -> list[LegalSection]:
        return self.sections[:limit]


NARRATIVE = (
    "On 12 March 2026 at about 10:30 pm the complainant parked his motorcycle UP15 AB 4521 outside his house. "
    "At 6 am it was missing. It is worth 55,000 rupees."
)


class FakeInference:
    """The JSON structure comes from ``generate``, the narrative from ``stream_generate``."""

    def __init__(self, answer: dict[str, object] | str, *, fail: Exception | None = None) -> None:
        self.answer = answer if isinstance(answer, str) else json.dumps(answer)
        self.narrative = NARRATIVE
        self.fail = fail
        self.calls: list[str] = []

    async def generate(self, messages, *, json_schema=None, max_tokens=512) -> ModelReply:  # type: ignore[no-untyped-def]
        self.calls.append("generate")
        if self.fail:
            raise self.fail
        if json_schema is not None and "summary" in json_schema["properties"]:
            assert json_schema["properties"]["sections"]["items"]["properties"]["section"]["enum"] == ["303", "305"]
        return ModelReply(self.answer, "fake-llm", 5.0)

    async def stream_generate(self, messages, *, json_schema=None, max_tokens=512) -> AsyncIterator[str | ModelReply]:  # type: ignore[no-untyped-def]
        self.calls.append("stream")
        if self.fail:
            raise self.fail
        assert json_schema is None  # the narrative is free text
        for i in range(0, len(self.narrative), 7):
            yield self.narrative[i : i + 7]
        yield ModelReply(self.narrative, "fake-llm", 5.0)

    async def transcribe(self, audio: bytes, language: str) -> ModelReply:
        self.calls.append("transcribe")
        return ModelReply(COMPLAINT, "asr", 3.0, language="en")

    async def recognize_text(self, image: bytes, languages: list[str]) -> ModelReply:
        self.calls.append("ocr")
        return ModelReply("   ", "ocr", 3.0)


def make(inference: FakeInference) -> tuple[GenerationService, FakeFirRepository]:
    """The real composition root with fake repositories and a fake model."""
    repo = FakeFirRepository(lambda: NOW)
    container = build(
        FirSettings(page_token_secret="unit-test-secret-0123456789"),
        repository=repo,
        legal_repository=FakeLegal(),
        inference=inference,
        clock=lambda: NOW,
    )
    assert container.generation is not None
    return container.generation, repo


def request(**kwargs: object) -> GenerationRequest:
    base: dict[str, object] = {
        "station": Station(code="MRT-SN"),
        "complainant": Complainant(name="Ravi Kumar"),
        "text": COMPLAINT,
    }
    base.update(kwargs)
    return GenerationRequest(**base)  # type: ignore[arg-type]


GOOD = {
    "summary": "Motorcycle stolen from outside the complainant's house.",
    "sections": [{"section": "303", "reason": "motorcycle taken"}, {"section": "999", "reason": "invented"}],
    "place": "outside the complainant's house",
    "accused": [{"name": "unknown", "description": "not seen"}],
    "witnesses": [],
    "property": [{"description": "black motorcycle", "value_inr": 99999}],
}


async def test_generated_draft_cites_only_candidates_and_keeps_rule_facts() -> None:
    inference = FakeInference(GOOD)
    inference.narrative = "The complainant parked his motorcycle outside his house and found it missing."
    service, repo = make(inference)
    fir = await service.generate(request(), change=CHANGE)
    assert [s.section for s in fir.legal_sections] == ["303"]  # the invented 999 is dropped
    assert fir.complaint.source is ComplaintSource.TEXT
    # The model's value is not in the complaint: the stated 55,000 wins.
    assert [p.value_inr for p in fir.properties] == [0.0, 55000.0]
    for fact in ("UP15 AB 4521", "55,000", "12 March 2026"):
        assert fact in fir.narrative
    assert fir.incident.occurred_from == datetime(2026, 3, 12, 17, 0, tzinfo=UTC)  # 22:30 IST
    assert fir.generation is not None and fir.generation.model == "fake-llm"
    assert set(fir.generation.stage_millis) >= {"retrieval", "llm"}
    assert repo.events_by_fir[fir.id][0].action == "GENERATED"


async def test_streaming_yields_stages_and_text_before_the_fir() -> None:
    service, _ = make(FakeInference(GOOD))
    events = [e async for e in service.stream(request(), change=CHANGE)]
    stages = [e.stage for e in events]
    assert stages[0] == "retrieve" and stages[-1] == "done" and "structure" in stages
    assert "".join(e.text_delta for e in events) == NARRATIVE
    assert events[-1].fir is not None and all(e.fir is None for e in events[:-1])


async def test_no_valid_section_falls_back_to_the_best_candidate() -> None:
    service, _ = make(FakeInference({**GOOD, "sections": []}))
    fir = await service.generate(request(), change=CHANGE)
    assert [s.section for s in fir.legal_sections] == ["303"]


async def test_nothing_is_stored_when_a_model_fails() -> None:
    service, repo = make(FakeInference(GOOD, fail=Unavailable("llm down", reason="MODEL_UNAVAILABLE")))
    with pytest.raises(Unavailable):
        await service.generate(request(), change=CHANGE)
    assert repo.firs == {}
    service, repo = make(FakeInference("not json at all"))
    with pytest.raises(FailedPrecondition) as exc:
        await service.generate(request(), change=CHANGE)
    assert exc.value.reason == "GENERATION_FAILED" and repo.firs == {}


async def test_an_idempotent_repeat_calls_no_model() -> None:
    inference = FakeInference(GOOD)
    service, repo = make(inference)
    key = IdempotencyKey("gen-1", "h")
    first = await service.generate(request(), change=CHANGE, idempotency=key)
    calls = len(inference.calls)
    again = await service.generate(request(), change=CHANGE, idempotency=key)
    assert again.id == first.id and len(inference.calls) == calls and len(repo.firs) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": ""}, "input"),
        ({"text": "short"}, "text"),
        ({"audio": b"RIFF"}, "input"),
        ({"text": "x" * 20001}, "text"),
        ({"language": "fr"}, "language"),
        ({"station": Station(code="bad code")}, "station.code"),
        ({"complainant": Complainant(name="")}, "complainant.name"),
    ],
)
async def test_bad_requests_fail_before_any_model_call(kwargs: dict[str, object], field: str) -> None:
    inference = FakeInference(GOOD)
    service, _ = make(inference)
    with pytest.raises(InvalidArgument) as exc:
        await service.generate(request(**kwargs), change=CHANGE)
    assert field in [v.field for v in exc.value.violations]
    assert inference.calls == []


async def test_audio_is_transcribed_and_an_unreadable_page_is_refused() -> None:
    inference = FakeInference(GOOD)
    service, _ = make(inference)
    fir = await service.generate(request(text="", audio=b"RIFF....WAVE"), change=CHANGE)
    assert fir.complaint.source is ComplaintSource.AUDIO and inference.calls[0] == "transcribe"
    with pytest.raises(InvalidArgument) as exc:
        await service.generate(request(text="", image=b"\x89PNG...."), change=CHANGE)
    assert exc.value.reason == "GENERATION_FAILED"


async def test_regenerate_one_part_checks_etag_and_audits() -> None:
    inference = FakeInference(GOOD)
    service, repo = make(inference)
    fir = await service.generate(request(), change=CHANGE)
    inference.answer = "A motorcycle was stolen at night."
    updated = await service.regenerate(fir.id, "summary", "shorter", fir.etag, change=CHANGE)
    assert updated.summary == "A motorcycle was stolen at night." and updated.narrative == fir.narrative
    assert repo.events_by_fir[fir.id][-1].action == "REGENERATED"
    inference.answer = json.dumps({"sections": [{"section": "305", "reason": "from the house"}]})
    again = await service.regenerate(fir.id, "legal_sections", "", updated.etag, change=CHANGE)
    assert [s.section for s in again.legal_sections] == ["305"]
    from afirgen_runtime.errors import Aborted

    with pytest.raises(Aborted):
        await service.regenerate(fir.id, "summary", "", fir.etag, change=CHANGE)


def test_rules_extract_facts_from_the_sample_complaints() -> None:
    facts = extract(COMPLAINT, reference=NOW)
    assert facts.vehicles == ["UP15 AB 4521"] and facts.amount_values == [55000.0]
    hindi = extract("दिनांक 5 नवंबर को शाम लगभग 6 बजे फोन चोरी हुआ, कीमत 25,000 रुपये", reference=NOW)
    assert hindi.amount_values == [25000.0]
    assert hindi.occurred_at == datetime(2026, 11, 5, 12, 30, tzinfo=UTC)
    lakh = extract("he demanded 2 lakh rupees on 1 August", reference=NOW)
    assert lakh.amount_values == [200000.0] and lakh.dates == ["1 August"]
