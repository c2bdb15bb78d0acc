"""The inference proxy over gRPC, as the FIR service's InferenceClient port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from afirgen.inference.v1 import inference_pb2, inference_pb2_grpc
from afirgen_runtime.channels import ChannelSettings, create_channel
from afirgen_runtime.errors import ModelUnavailable
from afirgen_runtime.grpc_errors import translate_rpc_errors

from afirgen_fir.service_layer.ports import ModelReply, Prompt

SERVICE = inference_pb2.DESCRIPTOR.services_by_name["InferenceService"].full_name


def _request(prompt: Prompt) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(
        messages=[inference_pb2.ChatMessage(role=role, content=content) for role, content in prompt.messages],
        sampling=inference_pb2.SamplingParams(temperature=0.0, max_tokens=prompt.max_tokens, stop=list(prompt.stop)),
    )


def _reply(text: str, model: str, usage: inference_pb2.Usage, language: str = "") -> ModelReply:
    """What a call returned, with the proxy's model time and queue wait (to the microsecond:
    ``Duration.ToMilliseconds`` would cut each to a whole millisecond)."""
    return ModelReply(
        text=text,
        model=model,
        model_millis=usage.model_time.ToMicroseconds() / 1000 if usage.HasField("model_time") else 0.0,
        language=language,
        queue_millis=usage.queue_time.ToMicroseconds() / 1000 if usage.HasField("queue_time") else 0.0,
    )


class GrpcInferenceClient:
    """Calls ``afirgen.inference.v1.InferenceService``; errors arrive as AfirgenError."""

    def __init__(self, settings: ChannelSettings) -> None:
        self._settings = settings
        self._channel: grpc.aio.Channel | None = None
        self._stub: inference_pb2_grpc.InferenceServiceStub | None = None

    def _client(self) -> inference_pb2_grpc.InferenceServiceStub:
        if not self._settings.target:
            raise ModelUnavailable("no inference proxy is configured (AFIRGEN_INFERENCE_TARGET)")
        if self._stub is None:
            # Every inference call is a pure function of its request: one a proxy replica could
            # not answer (it died, or refused it) is asked of another.
            self._channel = create_channel(self._settings, idempotent=[SERVICE])
            self._stub = inference_pb2_grpc.InferenceServiceStub(self._channel)
        return self._stub

    async def generate(self, prompt: Prompt, *, budget_seconds: float | None = None) -> ModelReply:
        with translate_rpc_errors():
            reply = await self._client().Generate(_request(prompt), timeout=budget_seconds)
        return _reply(reply.text, reply.model, reply.usage)

    async def stream_generate(
        self, prompt: Prompt, *, budget_seconds: float | None = None
    ) -> AsyncIterator[str | ModelReply]:
        parts: list[str] = []
        request = inference_pb2.StreamGenerateRequest(request=_request(prompt))
        with translate_rpc_errors():
            async for piece in self._client().StreamGenerate(request, timeout=budget_seconds):
                if piece.text_delta:
                    parts.append(piece.text_delta)
                    yield piece.text_delta
                if piece.HasField("usage"):
                    yield _reply("".join(parts), piece.model, piece.usage)

    async def transcribe(self, audio: bytes, language: str) -> ModelReply:
        with translate_rpc_errors():
            reply = await self._client().Transcribe(inference_pb2.TranscribeRequest(audio=audio, language=language))
        return _reply(reply.text, "asr", reply.usage, reply.language)

    async def recognize_text(self, image: bytes, languages: list[str]) -> ModelReply:
        with translate_rpc_errors():
            reply = await self._client().RecognizeText(
                inference_pb2.RecognizeTextRequest(image=image, languages=languages)
            )
        return _reply(reply.text, reply.model, reply.usage)

    async def close(self) -> None:
        """Close the channel."""
        if self._channel is not None:
            await self._channel.close()
