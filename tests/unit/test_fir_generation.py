"""Generation use cases with a fake model and the full BNS: the rules decide
every structured field, a bad model answer never fails the request, nothing
is stored when a stage fails, and a repeated key calls no model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from afirgen_fir.bootstrap import build
from afirgen_fir.domain import drafting
from afirgen_fir.domain.model import Complainant, ComplaintSource, Station
from afirgen_fir.service_layer.generation_service import STORES_AT_ONCE, GenerationRequest, GenerationService
from afirgen_fir.service_layer.ports import IdempotencyKey, ModelReply
from afirgen_fir.settings import FirSettings
from afirgen_runtime.errors import DeadlineExceeded, InvalidArgument, ModelUnavailable, ResourceExhausted, Unavailable
from loguru import logger

from tests.unit.fakes import FakeFirRepository, FakeLegalRepository, change_at

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
CHANGE = change_at("MRT-SN")
COMPLAINT = (
    "On the night of 12 March 2026 I parked my black motorcycle, registration UP15 AB 4521, outside my house "
    "at Shastri Nagar around 10:30 pm. At 6 am it was gone. It is worth about 55,000 rupees."
)
GOOD = (
    "SUMMARY: The complainant reports theft of his black motorcycle from outside his house at Shastri Nagar.\n"
    "NARRATIVE: On the night of 12 March 2026 the complainant parked his black motorcycle, registration "
    "UP15 AB 4521, outside his house at Shastri Nagar around 10:30 pm. At 6 am it was gone. It is worth about "
    "55,000 rupees."
)
# What small models write: a name, an amount and a place the complaint never mentions.
INVENTED = "SUMMARY: Ajay and Babu stole 99,999 rupees at Connaught Place.\nNARRATIVE: Ajay and Babu did it."


class FakeInference:
    """Answers every prose request with ``answers`` in turn (the last one repeats)."""

    def __init__(self, *answers: str, fail: Exception | None = None) -> None:
        self.answers = list(answers)
        self.fail = fail
        self.calls: list[str] = []

    def _next(self) -> str:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    async def generate(self, prompt, **options) -> ModelReply:  # type: ignore[no-untyped-def]
        self.calls.append("generate")
        if self.fail:
            raise self.fail
        return ModelReply(self._next(), "fake-llm", 5.0)

    async def stream_generate(self, prompt, **options) -> AsyncIterator[str | ModelReply]:  # type: ignore[no-untyped-def]
        self.calls.append("stream")
        if self.fail:
            raise self.fail
        text = self._next()
        for i in range(0, len(text), 7):
            yield text[i : i + 7]
        yield ModelReply(text, "fake-llm", 5.0, queue_millis=2.0)

    async def transcribe(self, audio: bytes, language: str) -> ModelReply:
        self.calls.append("transcribe")
        if self.fail:
            raise self.fail
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
        legal_repository=FakeLegalRepository(),
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


async def test_the_rules_cite_theft_for_a_stolen_motorcycle() -> None:
    service, _ = make(FakeInference(GOOD))
    fir = await service.generate(request(), change=CHANGE)
    assert [(s.section, s.title) for s in fir.legal_sections] == [("303", "Theft")]


async def test_a_cited_section_carries_the_words_that_triggered_it() -> None:
    service, _ = make(FakeInference(GOOD))
    fir = await service.generate(request(), change=CHANGE)
    assert [t.text for t in fir.legal_sections[0].triggers] == ["it was gone", "motorcycle"]


async def test_the_stated_value_and_the_place_come_from_the_complaint() -> None:
    service, _ = make(FakeInference(GOOD))
    fir = await service.generate(request(), change=CHANGE)
    assert ([(p.description, p.value_inr) for p in fir.properties], fir.incident.place) == (
        [("black motorcycle", 55000.0)],
        "Shastri Nagar",
    )


async def test_the_time_of_the_offence_is_read_in_india_time() -> None:
    service, _ = make(FakeInference(GOOD))
    fir = await service.generate(request(), change=CHANGE)
    assert fir.incident.occurred_from == datetime(2026, 3, 12, 17, 0, tzinfo=UTC)  # 22:30 IST


async def test_a_grounded_model_answer_is_kept() -> None:
    service, _ = make(FakeInference(GOOD))
    fir = await service.generate(request(), change=CHANGE)
    assert (fir.summary, fir.generation.deterministic_parts if fir.generation else None) == (
        GOOD.split("\n")[0].removeprefix("SUMMARY: "),
        [],
    )


async def test_an_inventing_model_is_asked_again_then_replaced_by_the_rules() -> None:
    inference = FakeInference(INVENTED)
    service, _repo = make(inference)
    fir = await service.generate(request(), change=CHANGE)
    assert (inference.calls, fir.generation.deterministic_parts if fir.generation else None, "Ajay" in fir.summary) == (
        ["stream", "generate"],
        ["narrative", "summary"],
        False,
    )


async def test_a_second_answer_that_passes_is_used() -> None:
    service, _ = make(FakeInference(INVENTED, GOOD))
    fir = await service.generate(request(), change=CHANGE)
    assert fir.generation is not None and fir.generation.deterministic_parts == []


class SlowReask(FakeInference):
    """Streams its first answer; the re-ask runs past its budget."""

    async def generate(self, prompt, **options) -> ModelReply:  # type: ignore[no-untyped-def]
        self.calls.append(f"generate budget={options.get('budget_seconds')}")
        raise DeadlineExceeded("re-ask too slow")


async def test_a_re_ask_past_its_budget_leaves_the_parts_to_the_rules() -> None:
    inference = SlowReask(INVENTED)
    service, _ = make(inference)
    fir = await service.generate(request(), change=CHANGE)
    assert (inference.calls, fir.generation.deterministic_parts if fir.generation else None) == (
        ["stream", f"generate budget={drafting.REASK_SECONDS}"],
        ["narrative", "summary"],
    )


@pytest.fixture
def checks_logged() -> Iterator[list[dict[str, Any]]]:
    """The context of each "model answer failed its checks" log record written during the test."""
    found: list[dict[str, Any]] = []
    sink = logger.add(
        lambda message: found.append(message.record["extra"]),
        level="INFO",
        filter=lambda record: record["message"] == "model answer failed its checks",
    )
    yield found
    logger.remove(sink)


def _answers(context: dict[str, Any]) -> set[str]:
    return {found["answer"] for found in context["problems"]}


async def test_a_re_ask_that_answered_is_logged_as_ran_with_what_it_left_failing(
    checks_logged: list[dict[str, Any]],
) -> None:
    service, _ = make(FakeInference(INVENTED, INVENTED))
    await service.generate(request(), change=CHANGE)
    assert [(c["reask"], _answers(c)) for c in checks_logged] == [("ran", {"first", "after_reask"})]


async def test_a_re_ask_skipped_for_lack_of_time_is_logged_as_skipped_with_the_first_problems_only(
    checks_logged: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drafting, "reask_budget", lambda spent: None)
    service, _ = make(FakeInference(INVENTED))
    await service.generate(request(), change=CHANGE)
    assert [(c["reask"], _answers(c)) for c in checks_logged] == [
        ("skipped: too little of the model's time left", {"first"})
    ]


async def test_a_re_ask_with_no_answer_is_logged_so_with_the_first_problems_only(
    checks_logged: list[dict[str, Any]],
) -> None:
    service, _ = make(SlowReask(INVENTED))
    await service.generate(request(), change=CHANGE)
    assert [(c["reask"], _answers(c)) for c in checks_logged] == [("no answer: DEADLINE_EXCEEDED", {"first"})]


async def test_an_answer_that_is_not_even_text_still_makes_a_draft() -> None:
    service, repo = make(FakeInference('{"summary": "unterminated'))
    fir = await service.generate(request(), change=CHANGE)
    assert fir.id in repo.firs


async def test_streaming_yields_stages_and_the_model_text_before_the_fir() -> None:
    service, _ = make(FakeInference(GOOD))
    events = [e async for e in service.stream(request(), change=CHANGE)]
    assert (next(e.stage for e in events), "".join(e.text_delta for e in events), events[-1].stage) == (
        "retrieve",
        GOOD,
        "done",
    )


async def test_every_stage_is_timed() -> None:
    service, _ = make(FakeInference(GOOD))
    fir = await service.generate(request(), change=CHANGE)
    assert fir.generation is not None and set(fir.generation.stage_millis) >= {
        "rules",
        "retrieval",
        "llm",
        "total",
    }


async def test_the_model_stage_carries_the_model_servers_time_and_the_wait_for_a_slot() -> None:
    service, _ = make(FakeInference(GOOD))
    fir = await service.generate(request(), change=CHANGE)
    assert fir.generation is not None
    assert (fir.generation.stage_millis["llm_model"], fir.generation.stage_millis["llm_queue"]) == (5.0, 2.0)


async def test_with_the_model_server_down_the_draft_is_the_rules_alone() -> None:
    service, _ = make(FakeInference(GOOD, fail=ModelUnavailable("llm down")))
    fir = await service.generate(request(), change=CHANGE)
    assert fir.generation is not None
    assert (fir.generation.model, fir.generation.deterministic_parts) == ("", ["narrative", "summary"])


async def test_with_the_model_server_hung_the_draft_still_cites_the_rules_sections() -> None:
    service, _ = make(FakeInference(GOOD, fail=DeadlineExceeded("llm hung")))
    fir = await service.generate(request(), change=CHANGE)
    assert [s.section for s in fir.legal_sections] == ["303"]


async def test_nothing_is_stored_when_speech_recognition_is_down() -> None:
    service, repo = make(FakeInference(GOOD, fail=ModelUnavailable("asr down")))
    with pytest.raises(Unavailable):
        await service.generate(request(text="", audio=b"RIFF0000WAVE"), change=CHANGE)
    assert repo.firs == {}


async def test_an_idempotent_repeat_calls_no_model() -> None:
    inference = FakeInference(GOOD)
    service, _ = make(inference)
    key = IdempotencyKey("gen-1", "h")
    first = await service.generate(request(), change=CHANGE, idempotency=key)
    calls = len(inference.calls)
    again = await service.generate(request(), change=CHANGE, idempotency=key)
    assert (again.id, len(inference.calls)) == (first.id, calls)


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
    assert (field in [v.field for v in exc.value.violations], inference.calls) == (True, [])


@pytest.mark.parametrize("key", ["ключ-1", "x" * 129, "tab\there"])
async def test_a_bad_idempotency_key_fails_before_any_model_call(key: str) -> None:
    inference = FakeInference(GOOD)
    service, _ = make(inference)
    with pytest.raises(InvalidArgument):
        await service.generate(request(), change=CHANGE, idempotency=IdempotencyKey(key, "h"))
    assert inference.calls == []


async def test_audio_is_transcribed_before_drafting() -> None:
    inference = FakeInference(GOOD)
    service, _ = make(inference)
    fir = await service.generate(request(text="", audio=b"RIFF....WAVE"), change=CHANGE)
    assert (fir.complaint.source, inference.calls[0]) == (ComplaintSource.AUDIO, "transcribe")


async def test_an_unreadable_page_is_refused() -> None:
    service, _ = make(FakeInference(GOOD))
    with pytest.raises(InvalidArgument) as exc:
        await service.generate(request(text="", image=b"\x89PNG...."), change=CHANGE)
    assert exc.value.reason == "GENERATION_FAILED"


async def test_regenerating_the_summary_keeps_the_narrative_and_audits() -> None:
    inference = FakeInference(GOOD)
    service, repo = make(inference)
    fir = await service.generate(request(), change=CHANGE)
    inference.answers = ["SUMMARY: The complainant's black motorcycle was stolen from Shastri Nagar."]
    updated = await service.regenerate(fir.id, "summary", "shorter", fir.etag, change=CHANGE)
    assert (updated.summary, updated.narrative, repo.events_by_fir[fir.id][-1].action) == (
        "The complainant's black motorcycle was stolen from Shastri Nagar.",
        fir.narrative,
        "REGENERATED",
    )


async def test_a_regenerated_summary_that_invents_falls_back_to_the_rules() -> None:
    inference = FakeInference(GOOD)
    service, _ = make(inference)
    fir = await service.generate(request(), change=CHANGE)
    inference.answers = [INVENTED]
    updated = await service.regenerate(fir.id, "summary", "", fir.etag, change=CHANGE)
    assert updated.summary.startswith("The complainant reports theft of black motorcycle")


async def test_regenerated_sections_are_the_rules_sections() -> None:
    inference = FakeInference(GOOD)
    service, _ = make(inference)
    fir = await service.generate(request(), change=CHANGE)
    inference.answers = ["SECTION: 103"]
    updated = await service.regenerate(fir.id, "legal_sections", "cite murder", fir.etag, change=CHANGE)
    assert [s.section for s in updated.legal_sections] == ["303"]


async def test_a_caller_with_two_generations_running_is_refused_a_third() -> None:
    service, _ = make(FakeInference(GOOD))
    running = [service.stream(request(), change=CHANGE), service.stream(request(), change=CHANGE)]
    for stream in running:
        await anext(stream)
    with pytest.raises(ResourceExhausted) as refused:
        await service.generate(request(), change=CHANGE)
    assert refused.value.reason == "TOO_MANY_GENERATIONS"


async def test_a_finished_generation_frees_its_place() -> None:
    service, _ = make(FakeInference(GOOD))
    for _ in range(3):
        await service.generate(request(), change=CHANGE)
    assert service._running == {}


def test_the_re_ask_gets_what_is_left_of_the_models_time_up_to_its_cap() -> None:
    spent = [1.0, drafting.MODEL_SECONDS - 5.0, drafting.MODEL_SECONDS - 1.0]
    assert [drafting.reask_budget(s) for s in spent] == [drafting.REASK_SECONDS, 5.0, None]


async def test_a_regeneration_with_the_model_hung_is_written_by_the_rules() -> None:
    """(The model's summary, GOOD, differs from the rules'.)"""
    inference = FakeInference(GOOD)
    service, _ = make(inference)
    fir = await service.generate(request(), change=CHANGE)
    inference.fail = DeadlineExceeded("llm hung")
    again = await service.regenerate(fir.id, "summary", "", fir.etag, change=CHANGE)
    rules_only = await service.generate(request(), change=CHANGE)
    assert again.summary == rules_only.summary


class GatedRepository(FakeFirRepository):
    """Holds every create until ``opened`` is set, counting the most it held at once."""

    def __init__(self) -> None:
        super().__init__(lambda: NOW)
        self.opened = asyncio.Event()
        self.held = 0
        self.most = 0

    async def create(self, fir, **kwargs):  # type: ignore[no-untyped-def]
        self.held += 1
        self.most = max(self.most, self.held)
        await self.opened.wait()
        self.held -= 1
        return await super().create(fir, **kwargs)


async def test_a_burst_of_drafts_is_stored_a_few_at_a_time() -> None:
    """Drafts the rules wrote at once (the model too busy) take turns to be stored."""
    repo = GatedRepository()
    container = build(
        FirSettings(page_token_secret="unit-test-secret-0123456789"),
        repository=repo,
        legal_repository=FakeLegalRepository(),
        inference=FakeInference(GOOD, fail=DeadlineExceeded("no slot in time")),
        clock=lambda: NOW,
    )
    assert container.generation is not None
    stations = [f"MRT-{i}" for i in range(STORES_AT_ONCE + 2)]
    drafts = [
        asyncio.create_task(container.generation.generate(request(station=Station(code=s)), change=change_at(s)))
        for s in stations
    ]
    for _ in range(100):  # every draft reaches its store, or its turn to store
        await asyncio.sleep(0)
    repo.opened.set()
    await asyncio.gather(*drafts)
    assert repo.most == STORES_AT_ONCE
