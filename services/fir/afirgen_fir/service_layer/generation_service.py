"""FIR generation: complaint (text, voice or scanned page) -> stored DRAFT.

Stages: transcribe or OCR (if needed) -> rule facts -> candidate sections
from the knowledge base -> one schema-constrained model call -> rule
cross-check -> store. Nothing is stored until every stage succeeded, so a
failed generation leaves no half-made FIR.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from afirgen_runtime.errors import FailedPrecondition, InvalidArgument
from loguru import logger

from afirgen_fir.domain import drafting, facts
from afirgen_fir.domain.model import (
    Complainant,
    Complaint,
    ComplaintSource,
    Fir,
    FirStatus,
    GenerationInfo,
    Officer,
    Station,
)
from afirgen_fir.service_layer.fir_service import FirService, check_id
from afirgen_fir.service_layer.ports import (
    Change,
    Clock,
    FirRepository,
    IdempotencyKey,
    InferenceClient,
    LegalRepository,
    ModelReply,
)

MAX_TEXT = 20_000
MIN_TEXT = 20
MAX_MEDIA_BYTES = 10 * 1024 * 1024
LANGUAGES = {"": ["en", "hi"], "en": ["en"], "hi": ["hi", "en"]}
CANDIDATES = 8
DRAFT_TOKENS = 900
NARRATIVE_TOKENS = 300
PART_TOKENS = 500


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
        self.stages[stage] = round((time.perf_counter() - started) * 1000, 1)


def _validate(request: GenerationRequest) -> None:
    given = [name for name in ("text", "audio", "image") if getattr(request, name)]
    if len(given) != 1:
        raise InvalidArgument.for_field("input", "give exactly one of text, audio or image")
    if request.language not in LANGUAGES:
        raise InvalidArgument.for_field("language", "supported languages are en and hi")
    if request.text:
        stripped = request.text.strip()
        if len(stripped) < MIN_TEXT:
            raise InvalidArgument.for_field("text", f"is too short to draft from (at least {MIN_TEXT} characters)")
        if len(request.text) > MAX_TEXT or "\x00" in request.text:
            raise InvalidArgument.for_field("text", f"must be at most {MAX_TEXT} characters of text")
    for name in ("audio", "image"):
        if len(getattr(request, name)) > MAX_MEDIA_BYTES:
            raise InvalidArgument.for_field(name, f"must be at most {MAX_MEDIA_BYTES // (1024 * 1024)} MiB")


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
        """Like :meth:`generate`, yielding stages and draft text as they come."""
        _validate(request)
        if idempotency is not None:
            existing = await self._repo.find_by_idempotency_key(idempotency)
            if existing is not None:
                yield GenerationEvent("store", fir=existing)
                return
        self._check_fir_fields(request)
        timer = _Timer()
        total = time.perf_counter()
        text, source, language = request.text, ComplaintSource.TEXT, request.language
        if request.audio:
            yield GenerationEvent("transcribe")
            started = time.perf_counter()
            reply = await self._inference.transcribe(request.audio, request.language)
            timer.mark("asr", started)
            text, source, language = reply.text, ComplaintSource.AUDIO, request.language or reply.language
            self._check_recognised(text, "audio", "no speech could be recognised in the recording")
        elif request.image:
            yield GenerationEvent("ocr")
            started = time.perf_counter()
            reply = await self._inference.recognize_text(request.image, LANGUAGES[request.language])
            timer.mark("ocr", started)
            text, source = reply.text, ComplaintSource.IMAGE
            self._check_recognised(text, "image", "no text could be read from the image")

        yield GenerationEvent("retrieve")
        started = time.perf_counter()
        noted = facts.extract(text, reference=self._clock(), utc_offset=self._offset)
        candidates = drafting.candidates_from(await self._legal.search(text[:2000], CANDIDATES), CANDIDATES)
        timer.mark("retrieval", started)
        if not candidates:
            raise FailedPrecondition(
                "the legal knowledge base is empty; load it before generating", reason="GENERATION_FAILED"
            )

        yield GenerationEvent("draft")
        started = time.perf_counter()
        narrative = ""
        async for piece in self._inference.stream_generate(
            drafting.narrative_messages(text, noted), max_tokens=NARRATIVE_TOKENS
        ):
            if isinstance(piece, ModelReply):
                narrative = piece.text
            else:
                yield GenerationEvent("draft", text_delta=piece)
        yield GenerationEvent("structure")
        draft = await self._inference.generate(
            drafting.draft_messages(text, candidates, noted),
            json_schema=drafting.draft_schema(candidates),
            max_tokens=DRAFT_TOKENS,
        )
        timer.mark("llm", started)
        try:
            data = drafting.parse_json(draft.text)
        except drafting.DraftError as exc:
            raise FailedPrecondition(str(exc), reason="GENERATION_FAILED") from None

        fir = Fir(
            station=request.station,
            complainant=request.complainant,
            investigating_officer=request.officer,
            complaint=Complaint(source=source, text=text[:MAX_TEXT], language=language or "en"),
        )
        drafting.apply_draft(fir, data, narrative, candidates, noted)
        yield GenerationEvent("store")
        fir.generation = GenerationInfo(
            model=draft.model, prompt_version=drafting.PROMPT_VERSION, stage_millis=dict(timer.stages)
        )
        started = time.perf_counter()
        stored, _ = await self._firs.create(fir, change=change, idempotency=idempotency, action="GENERATED")
        timer.mark("database", started)
        timer.mark("total", total)
        logger.info("fir generated", fir_id=stored.id, source=source.value, stage_millis=timer.stages)
        yield GenerationEvent("done", fir=stored)

    def _check_fir_fields(self, request: GenerationRequest) -> None:
        """Station and complainant are checked before any model time is spent."""
        from afirgen_fir.domain.validation import ensure_valid

        ensure_valid(
            Fir(
                station=request.station,
                complainant=request.complainant,
                investigating_officer=request.officer,
            )
        )

    @staticmethod
    def _check_recognised(text: str, field_name: str, message: str) -> None:
        if len(text.strip()) < MIN_TEXT:
            raise InvalidArgument.for_field(field_name, message, reason="GENERATION_FAILED")

    async def regenerate(self, fir_id: str, part: str, guidance: str, etag: str, *, change: Change) -> Fir:
        """Re-draft one part of a DRAFT (``summary``, ``narrative`` or ``legal_sections``)."""
        fir_id = check_id(fir_id)
        if part not in ("summary", "narrative", "legal_sections"):
            raise InvalidArgument.for_field("part", "choose SUMMARY, LEGAL_SECTIONS or NARRATIVE")
        if len(guidance) > 1000:
            raise InvalidArgument.for_field("guidance", "must be at most 1000 characters")
        if not etag:
            raise InvalidArgument.for_field("etag", "is required: send the etag of the FIR you reviewed")
        current = await self._firs.get(fir_id)
        if current.status is FirStatus.FINALIZED:
            raise FailedPrecondition("the FIR is finalized and can no longer change", reason="FIR_FINALIZED")
        if not current.complaint.text.strip():
            raise FailedPrecondition("the FIR has no complaint text to draft from", reason="FAILED_PRECONDITION")
        noted = facts.extract(current.complaint.text, reference=self._clock(), utc_offset=self._offset)
        query = f"{current.complaint.text[:2000]} {guidance}"
        candidates = drafting.candidates_from(await self._legal.search(query, CANDIDATES), CANDIDATES)
        messages = drafting.part_messages(part, current, candidates, guidance)
        new_value: Any
        if part == "legal_sections":
            schema: dict[str, Any] = {
                "type": "object",
                "properties": {"sections": drafting.sections_schema(candidates)},
                "required": ["sections"],
            }
            reply = await self._inference.generate(messages, json_schema=schema, max_tokens=PART_TOKENS)
            new_value = drafting.choose_sections(drafting.parse_json(reply.text).get("sections"), candidates)
        else:
            reply = await self._inference.generate(messages, max_tokens=PART_TOKENS)
            text = " ".join(reply.text.split()) if part == "summary" else reply.text.strip()
            if part == "summary":
                new_value = text[: drafting.MAX_SUMMARY] or drafting.first_sentence(current.complaint.text)
            else:
                new_value = drafting.with_particulars(text[: drafting.MAX_NARRATIVE] or current.narrative, noted)

        def apply(fir: Fir) -> Fir:
            edited = Fir(**{**fir.__dict__})
            setattr(edited, part, new_value)
            return edited

        return await self._firs.update(fir_id, etag, [part], apply, change=change, action="REGENERATED")
