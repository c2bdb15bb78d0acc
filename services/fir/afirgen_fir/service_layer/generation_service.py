"""FIR generation: complaint (text, voice or scanned page) -> stored DRAFT.

Stages: transcribe or OCR (if needed) -> rules read the complaint (offences,
facts, people, property, place, each with its span) -> section titles, or
candidates when no rule matched, from the knowledge base -> one model call
for the prose (streamed), re-asked once for the parts that fail their checks
-> store. The model's output never fails a request: a part it gets wrong is
written from the complaint by the rules. Nothing is stored until every
stage succeeded, so a failed generation leaves no half-made FIR.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

from afirgen_runtime.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    Unavailable,
)
from afirgen_runtime.ids import check_id, check_idempotency_key
from loguru import logger

from afirgen_fir.domain import access, drafting, offences, prose
from afirgen_fir.domain.errors import FirFinalized, KnowledgeBaseEmpty, NothingRecognised, TooManyGenerations
from afirgen_fir.domain.legal import LegalSection
from afirgen_fir.domain.model import (
    Complainant,
    Complaint,
    ComplaintSource,
    Fir,
    FirStatus,
    GenerationInfo,
    LegalSectionRef,
    Officer,
    Station,
)
from afirgen_fir.domain.validation import ensure_valid
from afirgen_fir.service_layer.fir_service import FIR_ID, FirService
from afirgen_fir.service_layer.ports import (
    Change,
    Clock,
    FirRepository,
    IdempotencyKey,
    InferenceClient,
    LegalRepository,
    ModelReply,
    Prompt,
)

MAX_TEXT = 20_000
MIN_TEXT = 20
MAX_MEDIA_BYTES = 10 * 1024 * 1024
MAX_GUIDANCE = 1000
LANGUAGES = {"": ["en", "hi"], "en": ["en"], "hi": ["hi", "en"]}
CANDIDATES = 6
MAX_GENERATIONS_PER_CALLER = 2
"""Generations one token subject may have running or queued in this process at once."""
STORES_AT_ONCE = 4
"""Drafts this process stores at once; the others wait their turn. A burst of drafts finished
together (written from the rules when the model is too busy) then takes its turns instead of
crowding this process's event loop, so reads in between are not queued behind a hundred stores."""


@dataclass
class GenerationRequest:
    """One complaint to draft from: exactly one of text, audio, image."""

    station: Station
    complainant: Complainant
    text: str = ""
    audio: bytes = b""
    image: bytes = b""
    language: str = ""
    officer: Officer = field(default_factory=Officer)


@dataclass
class GenerationEvent:
    """Progress of a streamed generation; ``fir`` is set on the last one."""

    stage: str
    text_delta: str = ""
    fir: Fir | None = None


class _Timer:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    def mark(self, stage: str, started: float) -> None:
        self._add(stage, (time.perf_counter() - started) * 1000)

    def model(self, stage: str, reply: ModelReply) -> None:
        """Of a stage's wall time, what the model server took and what the call queued for it."""
        self._add(f"{stage}_model", reply.model_millis)
        self._add(f"{stage}_queue", reply.queue_millis)

    def _add(self, stage: str, millis: float) -> None:
        self.stages[stage] = round(self.stages.get(stage, 0.0) + millis, 1)


def validate_request(request: GenerationRequest) -> None:
    """Every limit of the request, checked before any work is done on it."""
    given = [name for name in ("text", "audio", "image") if getattr(request, name)]
    if len(given) != 1:
        raise InvalidArgument.for_field("input", "give exactly one of text, audio or image")
    if request.language not in LANGUAGES:
        raise InvalidArgument.for_field("language", "supported languages are en and hi")
    if request.text:
        if len(request.text) > MAX_TEXT or "\x00" in request.text:
            raise InvalidArgument.for_field("text", f"must be at most {MAX_TEXT} characters of text")
        if len(request.text.strip()) < MIN_TEXT:
            raise InvalidArgument.for_field("text", f"is too short to draft from (at least {MIN_TEXT} characters)")
    for name in ("audio", "image"):
        if len(getattr(request, name)) > MAX_MEDIA_BYTES:
            raise InvalidArgument.for_field(name, f"must be at most {MAX_MEDIA_BYTES // (1024 * 1024)} MiB")
    ensure_valid(Fir(station=request.station, complainant=request.complainant, investigating_officer=request.officer))


class GenerationService:
    """GenerateFir, StreamGenerateFir and RegenerateFir."""

    def __init__(
        self,
        firs: FirService,
        repo: FirRepository,
        legal: LegalRepository,
        inference: InferenceClient,
        clock: Clock,
        *,
        utc_offset: timedelta = timedelta(hours=5, minutes=30),
    ) -> None:
        self._firs = firs
        self._repo = repo
        self._legal = legal
        self._inference = inference
        self._clock = clock
        self._offset = utc_offset
        self._running: dict[str, int] = {}
        self._stores = asyncio.Semaphore(STORES_AT_ONCE)

    async def generate(
        self, request: GenerationRequest, *, change: Change, idempotency: IdempotencyKey | None = None
    ) -> Fir:
        """Draft and store; a known idempotency key returns its FIR without calling a model."""
        fir: Fir | None = None
        async for event in self.stream(request, change=change, idempotency=idempotency):
            fir = event.fir or fir
        assert fir is not None
        return fir

    async def stream(
        self, request: GenerationRequest, *, change: Change, idempotency: IdempotencyKey | None = None
    ) -> AsyncIterator[GenerationEvent]:
        """Like :meth:`generate`, yielding stages and the model's text as they come."""
        validate_request(request)
        access.ensure_may_create(change.caller, request.station.code)
        if idempotency is not None:
            check_idempotency_key(idempotency.key, "request_id")
            existing = await self._firs.visible(await self._repo.find_by_idempotency_key(idempotency), change.caller)
            if existing is not None:
                yield GenerationEvent("done", fir=existing)
                return
        subject = change.caller.subject if change.caller else ""
        if self._running.get(subject, 0) >= MAX_GENERATIONS_PER_CALLER:
            raise TooManyGenerations(
                f"this caller already has {MAX_GENERATIONS_PER_CALLER} generations running; wait for one to finish"
            )
        self._running[subject] = self._running.get(subject, 0) + 1
        try:
            async for event in self._draft(request, change=change, idempotency=idempotency):
                yield event
        finally:
            self._running[subject] -= 1
            if not self._running[subject]:
                del self._running[subject]

    async def _draft(
        self, request: GenerationRequest, *, change: Change, idempotency: IdempotencyKey | None
    ) -> AsyncIterator[GenerationEvent]:
        timer = _Timer()
        total = time.perf_counter()
        text, source, language = request.text, ComplaintSource.TEXT, request.language
        if request.audio:
            yield GenerationEvent("transcribe")
            started = time.perf_counter()
            reply = await self._inference.transcribe(request.audio, request.language)
            timer.mark("asr", started)
            timer.model("asr", reply)
            text, source, language = reply.text, ComplaintSource.AUDIO, request.language or reply.language
            self._check_recognised(text, "audio", "no speech could be recognised in the recording")
        elif request.image:
            yield GenerationEvent("ocr")
            started = time.perf_counter()
            reply = await self._inference.recognize_text(request.image, LANGUAGES[request.language])
            timer.mark("ocr", started)
            timer.model("ocr", reply)
            text, source = reply.text, ComplaintSource.IMAGE
            self._check_recognised(text, "image", "no text could be read from the image")
        text = text[:MAX_TEXT]

        yield GenerationEvent("retrieve")
        started = time.perf_counter()
        reading = drafting.read(text, language=language, reference=self._clock(), utc_offset=self._offset)
        timer.mark("rules", started)
        started = time.perf_counter()
        known, candidates = await self._sections_of(reading, "")
        timer.mark("retrieval", started)

        yield GenerationEvent("draft")
        started = time.perf_counter()
        asked = drafting.messages(reading, candidates)
        reply_text, model = "", ""
        try:
            async for piece in self._inference.stream_generate(
                Prompt(asked, drafting.ANSWER_TOKENS, drafting.ANSWER_STOP), budget_seconds=drafting.MODEL_SECONDS
            ):
                if isinstance(piece, ModelReply):
                    reply_text, model = piece.text, piece.model
                    timer.model("llm", piece)
                else:
                    yield GenerationEvent("draft", text_delta=piece)
        except (Unavailable, DeadlineExceeded) as exc:
            # Everything stored comes from the rules anyway; without the model the
            # summary and narrative are the rules' too (GenerationInfo.model empty).
            logger.warning("no model answered: drafting from the rules alone", reason=exc.reason)
            reply_text, model = "", ""
        timer.mark("llm", started)
        answer = drafting.parse_answer(reply_text)
        failing = drafting.problems(reading, answer)
        if failing and model:
            reask = "skipped: too little of the model's time left"
            budget = drafting.reask_budget(time.perf_counter() - started)
            if budget is not None:
                started = time.perf_counter()
                try:
                    reask_prompt = Prompt(
                        drafting.reask_messages(reading, asked, reply_text, failing),
                        drafting.REASK_TOKENS,
                        drafting.ANSWER_STOP,
                    )
                    again = await self._inference.generate(reask_prompt, budget_seconds=budget)
                    timer.model("llm_reask", again)
                    answer = _better(reading, answer, drafting.parse_answer(again.text))
                    reask = "ran"
                except (Unavailable, DeadlineExceeded) as exc:
                    logger.warning("the model did not answer the re-ask: keeping its first answer", reason=exc.reason)
                    reask = f"no answer: {exc.reason}"
                timer.mark("llm_reask", started)
            # Why the model's parts were set aside, for an operator (and the evaluation
            # report) judging a model: the kind of problem only, not the words it invented;
            # what the re-ask left failing only when it answered.
            # (A list of records: the log's redaction hides any value under a key "summary".)
            after = drafting.problems(reading, answer) if reask == "ran" else {}
            logger.info(
                "model answer failed its checks",
                model=model,
                reask=reask,
                problems=[
                    {"answer": answer_name, "part": part, "problem": why.split(":")[0]}
                    for answer_name, found in (("first", failing), ("after_reask", after))
                    for part, why in found.items()
                ],
            )

        yield GenerationEvent("store")
        sections = drafting.cited_sections(reading, known, answer.section, candidates)
        written = drafting.choose_prose(reading, answer, sections)
        fir = Fir(
            station=request.station,
            complainant=request.complainant,
            investigating_officer=request.officer,
            complaint=Complaint(source=source, text=text, language=reading.language),
        )
        drafting.apply(fir, reading, written, sections)
        timer.mark("total", total)
        fir.generation = GenerationInfo(
            model=model,
            prompt_version=drafting.PROMPT_VERSION,
            stage_millis=dict(timer.stages),
            deterministic_parts=written.deterministic,
        )
        started = time.perf_counter()
        async with self._stores:
            stored, _ = await self._firs.create(fir, change=change, idempotency=idempotency, action="GENERATED")
        timer.mark("database", started)
        logger.info(
            "fir generated",
            fir_id=stored.id,
            source=source.value,
            stage_millis=dict(timer.stages),
            deterministic_parts=written.deterministic,
        )
        yield GenerationEvent("done", fir=stored)

    async def _sections_of(
        self, reading: drafting.Reading, guidance: str
    ) -> tuple[dict[str, LegalSection], list[drafting.Candidate]]:
        """Knowledge-base entries of the rules' sections; retrieved candidates only when no rule matched."""
        known: dict[str, LegalSection] = {}
        candidates: list[drafting.Candidate] = []
        if reading.findings:
            for number, _ in offences.sections_for(reading.findings, reading.gates):
                for section in await self._legal.search(f"BNS {number}", 1):
                    known[section.section] = section
        if not known:
            found = await self._legal.search(f"{reading.text[:2000]} {guidance}".strip(), 4 * CANDIDATES)
            if not found:
                raise KnowledgeBaseEmpty("the legal knowledge base is empty; load it before generating")
            known = {s.section: s for s in found}
            candidates = drafting.candidates_from(found, reading.gates, CANDIDATES)
        return known, candidates

    @staticmethod
    def _check_recognised(text: str, field_name: str, message: str) -> None:
        if len(text.strip()) < MIN_TEXT:
            raise NothingRecognised.for_field(field_name, message)

    async def regenerate(self, fir_id: str, part: str, guidance: str, etag: str, *, change: Change) -> Fir:
        """Re-draft one part of a DRAFT (``summary``, ``narrative`` or ``legal_sections``) under the same rules."""
        fir_id = check_id(fir_id, FIR_ID)
        if part not in ("summary", "narrative", "legal_sections"):
            raise InvalidArgument.for_field("part", "choose SUMMARY, LEGAL_SECTIONS or NARRATIVE")
        if len(guidance) > MAX_GUIDANCE or "\x00" in guidance:
            raise InvalidArgument.for_field("guidance", f"must be at most {MAX_GUIDANCE} characters of text")
        if not etag:
            raise InvalidArgument.for_field("etag", "is required: send the etag of the FIR you reviewed")
        current = await self._firs.get(fir_id, caller=change.caller)
        access.ensure_may_edit(change.caller, current)
        if current.status is FirStatus.FINALIZED:
            raise FirFinalized("the FIR is finalized and can no longer change")
        if not current.complaint.text.strip():
            raise FailedPrecondition("the FIR has no complaint text to draft from")
        reading = drafting.read(
            current.complaint.text,
            language=current.complaint.language,
            reference=self._clock(),
            utc_offset=self._offset,
        )
        known, candidates = await self._sections_of(reading, guidance)
        new_value: object
        if part == "legal_sections":
            choice = ""
            if candidates and not reading.findings:
                try:
                    reply = await self._inference.generate(
                        Prompt(drafting.part_messages(reading, part, guidance, candidates), max_tokens=40),
                        budget_seconds=drafting.MODEL_SECONDS,
                    )
                    choice = drafting.parse_answer(reply.text).section
                except (Unavailable, DeadlineExceeded) as exc:
                    logger.warning("no model answered: the retrieved candidates decide", reason=exc.reason)
            new_value = drafting.cited_sections(reading, known, choice, candidates)
        else:
            new_value = await self._redraft(reading, part, guidance, current.legal_sections)

        def apply(fir: Fir) -> Fir:
            edited = Fir(**{**fir.__dict__})
            setattr(edited, part, new_value)
            return edited

        return await self._firs.update(fir_id, etag, [part], apply, change=change, action="REGENERATED")

    async def _redraft(
        self, reading: drafting.Reading, part: str, guidance: str, sections: list[LegalSectionRef]
    ) -> str:
        """A new summary or narrative: the model's if it passes its check (after one re-ask), else the rules'."""
        asked = drafting.part_messages(reading, part, guidance, [])
        check = prose.summary_problem if part == "summary" else prose.narrative_problem
        started = time.perf_counter()
        for attempt in range(2):
            budget = drafting.MODEL_SECONDS if attempt == 0 else drafting.reask_budget(time.perf_counter() - started)
            if budget is None:
                break
            try:
                reply = await self._inference.generate(
                    Prompt(asked, drafting.ANSWER_TOKENS, drafting.ANSWER_STOP), budget_seconds=budget
                )
            except (Unavailable, DeadlineExceeded) as exc:
                logger.warning("no model answered: the rules redraft the part", reason=exc.reason)
                break
            text = getattr(drafting.parse_answer(reply.text), part) or reply.text.strip()
            problem = check(text, reading.source, reading.language)
            if problem is None:
                return text if part == "summary" else drafting.with_particulars(text, reading.facts)
            asked = drafting.reask_messages(reading, asked, reply.text, {part: problem})
        if part == "summary":
            return drafting.summary_from_rules(reading, sections)
        return drafting.with_particulars(prose.narrative_from_complaint(reading.text, reading.language), reading.facts)


def _better(reading: drafting.Reading, first: drafting.Answer, second: drafting.Answer) -> drafting.Answer:
    """Per part, the re-asked answer where the first one failed its check."""
    failing = drafting.problems(reading, first)
    return drafting.Answer(
        summary=second.summary if "summary" in failing else first.summary,
        narrative=second.narrative if "narrative" in failing else first.narrative,
        section=first.section or second.section,
    )
