"""gRPC servicer of ``afirgen.inference.v1.InferenceService``: proto -> use case -> proto.

Errors are raised as :class:`afirgen_runtime.errors.AfirgenError` and mapped to
``google.rpc.Status`` by the shared interceptor. The caller's deadline (which
the interceptor keeps) bounds every wait and model call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from afirgen.inference.v1 import inference_pb2, inference_pb2_grpc
from afirgen_runtime.interceptors import ServicerContext, remaining_seconds
from afirgen_runtime.proto_mapping import duration, timestamp

from afirgen_inference.adapters import metrics
from afirgen_inference.domain.model import (
    BackendStatus,
    CircuitState,
    GenerateCall,
    Generation,
    TextDelta,
    Timings,
)
from afirgen_inference.domain.validation import InputLimits, validate_generate, validate_recognize, validate_transcribe
from afirgen_inference.service_layer.deadline import Deadline
from afirgen_inference.service_layer.inference_service import InferenceService

_CIRCUIT = {
    CircuitState.CLOSED: inference_pb2.CIRCUIT_STATE_CLOSED,
    CircuitState.OPEN: inference_pb2.CIRCUIT_STATE_OPEN,
    CircuitState.HALF_OPEN: inference_pb2.CIRCUIT_STATE_HALF_OPEN,
}


def usage_proto(timings: Timings, prompt_tokens: int = 0, completion_tokens: int = 0) -> inference_pb2.Usage:
    """Counts and timings of one answer."""
    return inference_pb2.Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        model_time=duration(timings.model_seconds),
        total_time=duration(timings.total_seconds),
        queue_time=duration(timings.queue_seconds),
        shared=timings.shared,
        attempts=timings.attempts,
    )


def backend_proto(status: BackendStatus) -> inference_pb2.ModelBackend:
    """One replica for ListModels."""
    message = inference_pb2.ModelBackend(
        name=status.name,
        kind=status.kind.value,
        model=status.model,
        url=status.url,
        available=status.available,
        circuit_state=_CIRCUIT[status.circuit],
        in_flight=status.in_flight,
        queued=status.queued,
        max_in_flight=status.max_in_flight,
        max_queue=status.max_queue,
        last_error=status.last_error,
        last_probe_time=timestamp(status.last_probe_at),
    )
    if status.latency_p50 is not None:
        message.latency_p50.CopyFrom(duration(status.latency_p50))
    if status.latency_p99 is not None:
        message.latency_p99.CopyFrom(duration(status.latency_p99))
    return message


def generation_proto(result: Generation) -> inference_pb2.GenerateResponse:
    """A Generation -> GenerateResponse."""
    completion = result.completion
    metrics.observe("llm", result.backend, result.timings, completion.completion_tokens)
    return inference_pb2.GenerateResponse(
        text=completion.text,
        model=result.model,
        backend=result.backend,
        usage=usage_proto(result.timings, completion.prompt_tokens, completion.completion_tokens),
        finish_reason=completion.finish_reason,
    )


class InferenceServicer(inference_pb2_grpc.InferenceServiceServicer):
    """``afirgen.inference.v1.InferenceService``."""

    def __init__(self, service: InferenceService, limits: InputLimits) -> None:
        self._svc = service
        self._limits = limits

    def _generate_call(self, request: inference_pb2.GenerateRequest, prefix: str = "") -> GenerateCall:
        return validate_generate(
            model=request.model,
            served_model=self._svc.llm.model,
            messages=[(m.role, m.content) for m in request.messages],
            temperature=request.sampling.temperature,
            top_p=request.sampling.top_p,
            max_tokens=request.sampling.max_tokens,
            seed=request.sampling.seed,
            stop=list(request.sampling.stop),
            json_schema=request.json_schema,
            limits=self._limits,
            prefix=prefix,
        )

    async def Generate(
        self, request: inference_pb2.GenerateRequest, context: ServicerContext
    ) -> inference_pb2.GenerateResponse:
        """One chat completion."""
        call = self._generate_call(request)
        return generation_proto(await self._svc.generate(call, Deadline.after(remaining_seconds())))

    async def StreamGenerate(
        self, request: inference_pb2.StreamGenerateRequest, context: ServicerContext
    ) -> AsyncIterator[inference_pb2.StreamGenerateResponse]:
        """A chat completion, piece by piece; the last piece carries usage and model."""
        call = self._generate_call(request.request, prefix="request.")
        async for event in self._svc.stream_generate(call, Deadline.after(remaining_seconds())):
            if isinstance(event, TextDelta):
                yield inference_pb2.StreamGenerateResponse(text_delta=event.text)
            else:
                completion = event.completion
                metrics.observe("llm", event.backend, event.timings, completion.completion_tokens)
                yield inference_pb2.StreamGenerateResponse(
                    usage=usage_proto(event.timings, completion.prompt_tokens, completion.completion_tokens),
                    model=event.model,
                    backend=event.backend,
                    finish_reason=completion.finish_reason,
                )

    async def Transcribe(
        self, request: inference_pb2.TranscribeRequest, context: ServicerContext
    ) -> inference_pb2.TranscribeResponse:
        """Speech to text."""
        call = validate_transcribe(
            audio=request.audio,
            language=request.language,
            model=request.model,
            served_model=self._svc.asr.model,
            limits=self._limits,
        )
        result = await self._svc.transcribe(call, Deadline.after(remaining_seconds()))
        metrics.observe("asr", result.backend, result.timings)
        response = inference_pb2.TranscribeResponse(
            text=result.transcript.text,
            language=result.transcript.language,
            usage=usage_proto(result.timings),
            model=result.model,
            backend=result.backend,
        )
        if result.transcript.duration_seconds is not None:
            response.audio_duration.CopyFrom(duration(result.transcript.duration_seconds))
        return response

    async def RecognizeText(
        self, request: inference_pb2.RecognizeTextRequest, context: ServicerContext
    ) -> inference_pb2.RecognizeTextResponse:
        """Text in an image."""
        call = validate_recognize(image=request.image, languages=list(request.languages), limits=self._limits)
        result = await self._svc.recognize_text(call, Deadline.after(remaining_seconds()))
        metrics.observe("ocr", result.backend, result.timings)
        return inference_pb2.RecognizeTextResponse(
            text=result.page.text,
            usage=usage_proto(result.timings),
            model=result.model,
            backend=result.backend,
            languages=list(result.languages),
        )

    async def ListModels(
        self, request: inference_pb2.ListModelsRequest, context: ServicerContext
    ) -> inference_pb2.ListModelsResponse:
        """Every backend replica with availability, circuit state, load and latency."""
        return inference_pb2.ListModelsResponse(backends=[backend_proto(s) for s in self._svc.list_models()])
