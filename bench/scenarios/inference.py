"""The inference proxy's own cost: each model server called through it, one call at a
time, straight to the proxy (no Envoy, no fir service).

For every call the proxy reports the model server's time and its own total; their
difference is what the proxy adds (validation, queueing, retries, accounting). The
client's latency is recorded as well. Inputs differ slightly per call, so no call is
answered by an identical one in flight (the proxy shares those).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from afirgen.inference.v1 import inference_pb2 as pb
from afirgen.inference.v1 import inference_pb2_grpc

from bench.results import Measurement
from bench.scenarios import Context
from evaluation.media import page_png, speech_wav

TIMEOUT_S = 110.0
MAX_MESSAGE = 32 << 20


def _ms(duration: Any) -> float:
    return float(duration.ToNanoseconds()) / 1e6


def _calls(stub: inference_pb2_grpc.InferenceServiceStub) -> dict[str, Callable[[int], Awaitable[Any]]]:
    """One call per model kind, the ``i``-th of a run."""
    page = page_png("Mobile phone stolen near the bus stop\nat about 6 pm on Monday")
    wav = speech_wav("My bicycle was stolen from the railway station.")

    def llm(i: int) -> Awaitable[Any]:
        message = pb.ChatMessage(role="user", content=f"Say hello number {i}.")
        sampling = pb.SamplingParams(temperature=0, max_tokens=8)
        return stub.Generate(pb.GenerateRequest(messages=[message], sampling=sampling), timeout=TIMEOUT_S)

    def asr(i: int) -> Awaitable[Any]:
        return stub.Transcribe(pb.TranscribeRequest(audio=wav + bytes(2 * (i + 1))), timeout=TIMEOUT_S)

    def ocr(i: int) -> Awaitable[Any]:
        return stub.RecognizeText(pb.RecognizeTextRequest(image=page + bytes(i + 1)), timeout=TIMEOUT_S)

    return {"llm": llm, "asr": asr, "ocr": ocr}


async def _measure(ctx: Context) -> None:
    options = [("grpc.max_send_message_length", MAX_MESSAGE), ("grpc.max_receive_message_length", MAX_MESSAGE)]
    address = f"127.0.0.1:{ctx.target.cfg.inference_port}"
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        for kind, call in _calls(inference_pb2_grpc.InferenceServiceStub(channel)).items():
            client_ms, overhead_ms, model_ms = [], [], []
            for i in range(ctx.profile.inference_calls):
                started = time.perf_counter()
                reply = await call(i)
                client_ms.append((time.perf_counter() - started) * 1000)
                model_ms.append(_ms(reply.usage.model_time))
                overhead_ms.append(_ms(reply.usage.total_time) - model_ms[-1])
            extra = {"model_p50_ms": statistics.median(model_ms)}
            key, label = f"inference.{kind}", f"{kind} through the proxy"
            ctx.results.add(Measurement.from_samples("inference", key, label, "grpc.aio", client_ms, extra=extra))
            ctx.results.figures[f"inference.{kind}.overhead_p50_ms"] = statistics.median(overhead_ms)
            ctx.log(
                f"  {kind}: client p50 {statistics.median(client_ms):.1f} ms, model p50 {extra['model_p50_ms']:.1f} ms,"
                f" inside the proxy p50 {statistics.median(overhead_ms):.2f} ms"
            )


def run(ctx: Context) -> None:
    """Each model kind, ``profile.inference_calls`` times, one call at a time."""
    asyncio.run(_measure(ctx))
