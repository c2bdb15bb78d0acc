"""Use cases of the inference proxy: generate, stream, transcribe, read text, list models.

Requests arrive validated (:mod:`afirgen_inference.domain.validation`).
Deterministic requests (greedy generation, every transcription and OCR call)
go through single flight, so identical requests in flight at the same moment
reach a model server once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

from afirgen_runtime.errors import GenerationFailed
from afirgen_runtime.single_flight import SingleFlight
from loguru import logger

from afirgen_inference.domain.errors import BackendError
from afirgen_inference.domain.json_output import output_problem
from afirgen_inference.domain.model import (
    BackendStatus,
    ChatMessage,
    Completion,
    GenerateCall,
    Generation,
    Recognition,
    RecognizeCall,
    TextDelta,
    Timings,
    TranscribeCall,
    Transcription,
)
from afirgen_inference.service_layer.backend_pool import BackendPool, to_mesh_error
from afirgen_inference.service_layer.deadline import Deadline
from afirgen_inference.service_layer.ports import ChatServer, Clock, OcrServer, SpeechServer

R = TypeVar("R", Generation, Transcription, Recognition)
MAX_ECHOED_OUTPUT = 4000


def reask(call: GenerateCall, answer: Completion, problem: str, max_tokens_limit: int) -> GenerateCall:
    """The follow-up request after output that does not fit the schema.

    The bad answer and the problem go back to the model (greedy decoding would
    otherwise repeat itself); a truncated answer gets twice the token budget."""
    messages = (
        *call.messages,
        ChatMessage("assistant", answer.text[:MAX_ECHOED_OUTPUT]),
        ChatMessage(
            "user",
            f"That answer {problem}. Reply again with only one JSON document that matches the schema.",
        ),
    )
    sampling = call.sampling
    if answer.finish_reason == "length":
        sampling = dataclasses.replace(sampling, max_tokens=min(max_tokens_limit, sampling.max_tokens * 2))
    return dataclasses.replace(call, messages=messages, sampling=sampling)


def _complete(call: GenerateCall) -> Callable[[ChatServer, float], Coroutine[Any, Any, Completion]]:
    async def op(client: ChatServer, time_limit: float) -> Completion:
        return await client.complete(call, time_limit)

    return op


class InferenceService:
    """The proxy's use cases over three backend pools."""

    def __init__(
        self,
        *,
        llm: BackendPool[ChatServer],
        asr: BackendPool[SpeechServer],
        ocr: BackendPool[OcrServer],
        json_reasks: int = 1,
        max_tokens_limit: int = 4096,
        clock: Clock = time.monotonic,
    ) -> None:
        self.llm, self.asr, self.ocr = llm, asr, ocr
        self._json_reasks = json_reasks
        self._max_tokens_limit = max_tokens_limit
        self._clock = clock
        self.generations: SingleFlight[str, Generation] = SingleFlight()
        self.transcriptions: SingleFlight[str, Transcription] = SingleFlight()
        self.recognitions: SingleFlight[str, Recognition] = SingleFlight()

    # --- shared machinery -----------------------------------------------------
    async def _deterministic(
        self,
        flights: SingleFlight[str, R],
        key: str,
        compute: Callable[[], Coroutine[Any, Any, R]],
    ) -> R:
        started = self._clock()
        result, shared = await flights.run(key, compute)
        timings = dataclasses.replace(result.timings, shared=shared, total_seconds=self._clock() - started)
        return dataclasses.replace(result, timings=timings)

    # --- generation -------------------------------------------------------------
    async def generate(self, call: GenerateCall, deadline: Deadline) -> Generation:
        """One completion; with a schema, JSON valid for it or GENERATION_FAILED."""
        if call.deterministic:
            return await self._deterministic(self.generations, call.key(), lambda: self._generate(call, deadline))
        started = self._clock()
        result = await self._generate(call, deadline)
        timings = dataclasses.replace(result.timings, total_seconds=self._clock() - started)
        return dataclasses.replace(result, timings=timings)

    async def _generate(self, call: GenerateCall, deadline: Deadline) -> Generation:
        attempts, queued, current = 0, 0.0, call
        for ask in range(1 + self._json_reasks):
            outcome = await self.llm.call(_complete(current), deadline, current.sampling.max_tokens)
            attempts += outcome.attempts
            queued += outcome.queue_seconds
            answer = outcome.value
            problem = None if call.json_schema is None else output_problem(answer.text, call.json_schema)
            if problem is None:
                timings = Timings(model_seconds=outcome.model_seconds, queue_seconds=queued, attempts=attempts)
                return Generation(answer, call.model, outcome.replica, timings)
            logger.warning(
                "model output does not fit the schema",
                problem=problem,
                finish_reason=answer.finish_reason,
                ask=ask + 1,
            )
            current = reask(current, answer, problem, self._max_tokens_limit)
        raise GenerationFailed(
            f"the model did not produce JSON valid for the schema in {1 + self._json_reasks} attempts: "
            f"its last answer {problem}",
            metadata={"backend": self.llm.kind.value, "finish_reason": answer.finish_reason},
        )

    async def stream_generate(self, call: GenerateCall, deadline: Deadline) -> AsyncIterator[TextDelta | Generation]:
        """Text deltas as the model produces them, then the whole :class:`Generation`."""
        started = self._clock()
        lease = await self.llm.open_stream(
            lambda client, limit: client.open_stream(call, limit), deadline, call.sampling.max_tokens
        )
        pieces: list[str] = []
        final = Completion(text="")
        try:
            async for event in lease.value.events():
                if isinstance(event, TextDelta):
                    pieces.append(event.text)
                    yield event
                else:
                    final = event
        except BaseException as exc:
            await lease.value.aclose()
            await lease.close(exc)
            if isinstance(exc, BackendError):
                raise to_mesh_error(exc, self.llm.kind.value) from exc
            raise
        await lease.value.aclose()
        await lease.close()
        model_seconds = self._clock() - lease.started
        completion = dataclasses.replace(final, text="".join(pieces))
        if call.json_schema is not None:
            problem = output_problem(completion.text, call.json_schema)
            if problem is not None:
                raise GenerationFailed(
                    f"the streamed output is not JSON valid for the schema: it {problem}",
                    metadata={"backend": self.llm.kind.value, "finish_reason": completion.finish_reason},
                )
        timings = Timings(
            model_seconds=model_seconds,
            total_seconds=self._clock() - started,
            queue_seconds=lease.queue_seconds,
            attempts=lease.attempts,
        )
        yield Generation(completion, call.model, lease.replica, timings)

    # --- speech and pages -----------------------------------------------------
    async def transcribe(self, call: TranscribeCall, deadline: Deadline) -> Transcription:
        """Speech to text."""

        async def compute() -> Transcription:
            outcome = await self.asr.call(lambda client, limit: client.transcribe(call, limit), deadline)
            timings = Timings(
                model_seconds=outcome.model_seconds, queue_seconds=outcome.queue_seconds, attempts=outcome.attempts
            )
            return Transcription(outcome.value, call.model, outcome.replica, timings)

        return await self._deterministic(self.transcriptions, call.key(), compute)

    async def recognize_text(self, call: RecognizeCall, deadline: Deadline) -> Recognition:
        """Text in an image."""

        async def compute() -> Recognition:
            outcome = await self.ocr.call(lambda client, limit: client.recognize(call, limit), deadline)
            timings = Timings(
                model_seconds=outcome.model_seconds, queue_seconds=outcome.queue_seconds, attempts=outcome.attempts
            )
            return Recognition(outcome.value, self.ocr.model, outcome.replica, call.languages, timings)

        return await self._deterministic(self.recognitions, call.key(), compute)

    # --- operations ---------------------------------------------------------------
    def list_models(self) -> list[BackendStatus]:
        """Every replica of every backend with its health, circuit, load and latency."""
        return [*self.llm.status(), *self.asr.status(), *self.ocr.status()]
