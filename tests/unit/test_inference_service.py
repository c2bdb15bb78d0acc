"""Inference use cases through the real composition root, with fake model servers
behind ``httpx.MockTransport`` (no sockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from afirgen_inference.bootstrap import InferenceContainer, build
from afirgen_inference.domain.model import (
    ChatMessage,
    CircuitState,
    Completion,
    GenerateCall,
    Generation,
    RecognizeCall,
    Sampling,
    TextDelta,
    TranscribeCall,
)
from afirgen_inference.domain.validation import InputLimits
from afirgen_inference.service_layer.backend_pool import BackendSettings
from afirgen_inference.service_layer.deadline import Deadline
from afirgen_inference.settings import InferenceSettings
from afirgen_runtime.errors import DeadlineExceeded, GenerationFailed, InvalidArgument, ResourceExhausted, Unavailable

LLM_A, LLM_B, ASR, OCR = "http://llm-a", "http://llm-b", "http://asr", "http://ocr"
SCHEMA = {"type": "object", "properties": {"place": {"type": "string"}}, "required": ["place"]}
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)

Handler = Callable[[httpx.Request], httpx.Response]


def chat_answer(text: str, finish: str = "stop") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7},
        },
    )


@dataclass
class FakeServers:
    """Programmable model servers: ``routes[(base, path)]`` answers requests."""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    delay: float = 0.0

    def calls(self, base: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url).startswith(base) and r.url.path == path]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        base = f"{request.url.scheme}://{request.url.host}"
        handler = self.routes.get((base, request.url.path))
        if handler is None:
            if request.url.path == "/health":
                return httpx.Response(200, json={"status": "ok"})
            raise httpx.ConnectError("connection refused", request=request)
        return handler(request)


def settings(**llm: object) -> InferenceSettings:
    fast = {"backoff_initial_seconds": 0.001, "backoff_max_seconds": 0.002, "backoff_jitter_seconds": 0.0}
    return InferenceSettings(
        llm=BackendSettings(**({"urls": (LLM_A,), "model": "smollm2"} | fast | llm)),  # type: ignore[arg-type]
        asr=BackendSettings(urls=(ASR,), model="whisper-1", **fast),  # type: ignore[arg-type]
        ocr=BackendSettings(urls=(OCR,), model="tesseract", max_in_flight=2, **fast),  # type: ignore[arg-type]
        limits=InputLimits(),
    )


@pytest.fixture
def servers() -> FakeServers:
    return FakeServers()


def make(servers: FakeServers, config: InferenceSettings | None = None) -> InferenceContainer:
    return build(config or settings(), transport=httpx.MockTransport(servers))


def call(
    text: str = "Where did it happen?", *, schema: dict[str, object] | None = None, t: float = 0.0
) -> GenerateCall:
    return GenerateCall(
        model="smollm2",
        messages=(ChatMessage("user", text),),
        sampling=Sampling(temperature=t, max_tokens=64),
        json_schema=schema,
    )


def soon() -> Deadline:
    return Deadline.after(5)


async def test_generate_sends_openai_request_and_reports_usage(servers: FakeServers) -> None:
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: chat_answer("At the bus stop.")
    result = await make(servers).service.generate(call(schema=None), soon())
    assert result.completion == Completion("At the bus stop.", "stop", 11, 7)
    assert result.backend == "llm-0" and result.model == "smollm2"
    assert result.timings.attempts == 1 and result.timings.total_seconds >= result.timings.model_seconds
    body = json.loads(servers.calls(LLM_A, "/v1/chat/completions")[0].content)
    assert body["model"] == "smollm2" and body["temperature"] == 0 and body["max_tokens"] == 64
    assert body["messages"] == [{"role": "user", "content": "Where did it happen?"}]


async def test_schema_goes_to_the_server_and_valid_json_passes(servers: FakeServers) -> None:
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: chat_answer('{"place": "Janpath"}')
    result = await make(servers).service.generate(call(schema=SCHEMA), soon())
    assert json.loads(result.completion.text) == {"place": "Janpath"}
    body = json.loads(servers.calls(LLM_A, "/v1/chat/completions")[0].content)
    assert body["response_format"] == {"type": "json_object", "schema": SCHEMA}


async def test_invalid_json_is_reasked_once_then_generation_failed(servers: FakeServers) -> None:
    answers = iter([chat_answer('{"place": 4'), chat_answer('{"place": 5}')])
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: next(answers)
    with pytest.raises(GenerationFailed) as failed:
        await make(servers).service.generate(call(schema=SCHEMA), soon())
    assert failed.value.reason == "GENERATION_FAILED" and "place" in failed.value.message
    requests = servers.calls(LLM_A, "/v1/chat/completions")
    assert len(requests) == 2
    reask = json.loads(requests[1].content)["messages"]
    assert reask[-2] == {"role": "assistant", "content": '{"place": 4'} and reask[-1]["role"] == "user"


async def test_truncated_json_is_reasked_with_a_bigger_budget(servers: FakeServers) -> None:
    answers = iter([chat_answer('{"pla', "length"), chat_answer('{"place": "Janpath"}')])
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: next(answers)
    result = await make(servers).service.generate(call(schema=SCHEMA), soon())
    assert json.loads(result.completion.text)["place"] == "Janpath" and result.timings.attempts == 2
    budgets = [json.loads(r.content)["max_tokens"] for r in servers.calls(LLM_A, "/v1/chat/completions")]
    assert budgets == [64, 128]


async def test_transient_errors_are_retried_input_errors_are_not(servers: FakeServers) -> None:
    answers = iter([httpx.Response(503, json={"error": {"message": "Loading model"}}), chat_answer("ok")])
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: next(answers)
    container = make(servers)
    result = await container.service.generate(call("a"), soon())
    assert result.completion.text == "ok" and result.timings.attempts == 2

    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: httpx.Response(
        400, json={"error": {"message": "the request exceeds the available context size"}}
    )
    with pytest.raises(InvalidArgument) as refused:
        await container.service.generate(call("b"), soon())
    assert "context size" in refused.value.message
    assert len(servers.calls(LLM_A, "/v1/chat/completions")) == 3  # 2 + 1: the 400 was not retried


async def test_a_dead_server_opens_the_circuit_and_is_then_not_called(servers: FakeServers) -> None:
    container = make(servers, settings(failure_threshold=3, attempts=3, recovery_seconds=60))
    with pytest.raises(Unavailable) as first:
        await container.service.generate(call("x"), soon())  # 3 connect errors: threshold reached
    assert first.value.reason == "MODEL_UNAVAILABLE" and first.value.metadata["backend"] == "llm"
    (status,) = [s for s in container.service.list_models() if s.name == "llm-0"]
    assert status.circuit is CircuitState.OPEN and "unreachable" in status.last_error
    before = len(servers.requests)
    with pytest.raises(Unavailable) as fast:
        await container.service.generate(call("y"), soon())
    assert len(servers.requests) == before  # refused without calling the server
    assert fast.value.reason == "MODEL_UNAVAILABLE" and "circuit" in fast.value.message


async def test_health_probes_drive_availability_and_recovery(servers: FakeServers) -> None:
    container = make(servers, settings(failure_threshold=2, recovery_seconds=0.05))
    servers.routes[(LLM_A, "/health")] = lambda r: httpx.Response(503, json={"error": "Loading model"})
    await container.monitor.probe_once()
    await container.monitor.probe_once()
    llm = container.service.list_models()[0]
    assert not llm.available and llm.circuit is CircuitState.OPEN and llm.last_probe_at is not None
    servers.routes[(LLM_A, "/health")] = lambda r: httpx.Response(200, json={"status": "ok"})
    await asyncio.sleep(0.06)
    await container.monitor.probe_once()
    llm = container.service.list_models()[0]
    assert llm.available and llm.circuit is CircuitState.CLOSED


async def test_replicas_share_load_and_a_dead_one_is_avoided(servers: FakeServers) -> None:
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: chat_answer("a")
    servers.routes[(LLM_B, "/v1/chat/completions")] = lambda r: chat_answer("b")
    servers.delay = 0.02
    container = make(servers, settings(urls=(LLM_A, LLM_B), max_queue=8))
    results = await asyncio.gather(*(container.service.generate(call(str(i)), soon()) for i in range(4)))
    assert sorted(r.backend for r in results) == ["llm-0", "llm-0", "llm-1", "llm-1"]
    servers.routes[(LLM_A, "/health")] = lambda r: httpx.Response(503)
    await container.monitor.probe_once()
    results = await asyncio.gather(*(container.service.generate(call(f"z{i}"), soon()) for i in range(3)))
    assert {r.backend for r in results} == {"llm-1"}


async def test_excess_callers_get_resource_exhausted_at_once(servers: FakeServers) -> None:
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: chat_answer("ok")
    servers.delay = 0.2
    container = make(servers, settings(max_in_flight=1, max_queue=2))
    tasks = [asyncio.create_task(container.service.generate(call(f"q{i}"), soon())) for i in range(6)]
    done, _ = await asyncio.wait(tasks, timeout=0.1)  # well before any served call (0.2 s each)
    refused = [t for t in done if isinstance(t.exception(), ResourceExhausted)]
    assert len(refused) == 3 and all(t.exception().reason == "OVERLOADED" for t in refused)  # type: ignore[union-attr]
    served = await asyncio.gather(*(t for t in tasks if t not in done))
    assert len(served) == 3 and max(r.timings.queue_seconds for r in served) >= 0.3


async def test_identical_deterministic_requests_are_computed_once(servers: FakeServers) -> None:
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: chat_answer("same")
    servers.delay = 0.05
    container = make(servers, settings(max_queue=2))
    same = await asyncio.gather(*(container.service.generate(call("same input"), soon()) for _ in range(10)))
    assert len(servers.calls(LLM_A, "/v1/chat/completions")) == 1
    assert all(r.completion.text == "same" and r.timings.shared for r in same)
    sampled = await asyncio.gather(*(container.service.generate(call("hot", t=0.7), soon()) for _ in range(2)))
    assert len(servers.calls(LLM_A, "/v1/chat/completions")) == 3 and not sampled[0].timings.shared


async def test_slow_server_and_short_deadline_do_not_open_the_circuit(servers: FakeServers) -> None:
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: (_ for _ in ()).throw(
        httpx.ReadTimeout("timed out", request=r)
    )
    container = make(servers, settings(failure_threshold=1))
    with pytest.raises(DeadlineExceeded):
        await container.service.generate(call("c"), Deadline.after(-1))  # no time left: not even tried
    assert not servers.requests
    with pytest.raises(DeadlineExceeded):
        await container.service.generate(call("d"), Deadline.after(1))  # the caller's 1 s < 120 s
    assert container.service.list_models()[0].circuit is CircuitState.CLOSED
    with pytest.raises(DeadlineExceeded):
        await container.service.generate(call("e"), Deadline(None))  # the server's own timeout
    assert container.service.list_models()[0].circuit is CircuitState.OPEN


def sse(*events: object) -> httpx.Response:
    lines = [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]
    return httpx.Response(200, content="".join(lines).encode(), headers={"content-type": "text/event-stream"})


async def test_stream_yields_deltas_then_the_whole_generation(servers: FakeServers) -> None:
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: sse(
        {"choices": [{"delta": {"content": "One"}, "finish_reason": None}]},
        {"choices": [{"delta": {"content": ", two"}, "finish_reason": None}]},
        {"choices": [{"delta": {}, "finish_reason": "length"}]},
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2}},
    )
    container = make(servers)
    events = [e async for e in container.service.stream_generate(call("count"), soon())]
    assert events[:2] == [TextDelta("One"), TextDelta(", two")]
    final = events[-1]
    assert isinstance(final, Generation) and final.completion == Completion("One, two", "length", 9, 2)
    body = json.loads(servers.calls(LLM_A, "/v1/chat/completions")[0].content)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert container.service.llm.replicas[0].in_flight == 0


async def test_a_streams_model_time_counts_the_server_reading_the_prompt_before_it_answers(
    servers: FakeServers,
) -> None:
    servers.delay = 0.2  # the server answers its headers only after this
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: sse(
        {"choices": [{"delta": {"content": "One"}, "finish_reason": "stop"}]}
    )
    events = [e async for e in make(servers).service.stream_generate(call("count"), soon())]
    final = events[-1]
    assert isinstance(final, Generation) and final.timings.model_seconds >= 0.2


async def test_stream_with_a_schema_refuses_invalid_output(servers: FakeServers) -> None:
    servers.routes[(LLM_A, "/v1/chat/completions")] = lambda r: sse(
        {"choices": [{"delta": {"content": "not json"}, "finish_reason": "stop"}]}
    )
    with pytest.raises(GenerationFailed):
        [e async for e in make(servers).service.stream_generate(call(schema=SCHEMA), soon())]


async def test_transcribe_sends_multipart_and_shares_identical_audio(servers: FakeServers) -> None:
    servers.routes[(ASR, "/v1/audio/transcriptions")] = lambda r: httpx.Response(
        200, json={"text": " My bicycle was stolen. ", "language": "en", "duration": 2.5}
    )
    servers.delay = 0.02
    container = make(servers)
    request = TranscribeCall(audio=WAV, audio_format="wav", language="en", model="whisper-1")
    results = await asyncio.gather(*(container.service.transcribe(request, soon()) for _ in range(3)))
    assert results[0].transcript.text == "My bicycle was stolen." and results[0].transcript.duration_seconds == 2.5
    (sent,) = servers.calls(ASR, "/v1/audio/transcriptions")
    assert b'name="language"\r\n\r\nen' in sent.content and b'filename="audio.wav"' in sent.content


async def test_recognize_text_sends_tesseract_languages(servers: FakeServers) -> None:
    servers.routes[(OCR, "/v1/ocr")] = lambda r: httpx.Response(200, json={"text": "FIR\n"})
    container = make(servers)
    result = await container.service.recognize_text(
        RecognizeCall(image=PNG, image_format="png", languages=("hi", "en")), soon()
    )
    assert result.page.text == "FIR" and result.languages == ("hi", "en")
    (sent,) = servers.calls(OCR, "/v1/ocr")
    assert sent.url.params["languages"] == "hin,eng" and sent.headers["content-type"] == "image/png"
    assert sent.content == PNG


async def test_list_models_shows_every_replica(servers: FakeServers) -> None:
    servers.routes[(OCR, "/v1/ocr")] = lambda r: httpx.Response(200, json={"text": "x"})
    container = make(servers)
    await container.service.recognize_text(RecognizeCall(image=PNG, image_format="png", languages=("en",)), soon())
    statuses = {s.name: s for s in container.service.list_models()}
    assert set(statuses) == {"llm-0", "asr-0", "ocr-0"}
    ocr = statuses["ocr-0"]
    assert ocr.latency_p50 is not None and ocr.max_in_flight == 2 and ocr.max_queue == 8
    assert ocr.circuit is CircuitState.CLOSED and ocr.in_flight == 0 and ocr.url == OCR
    await container.close()


async def busy_replica_probed(servers: FakeServers, **llm: object) -> Any:
    """An LLM replica with a call in flight whose health probe times out."""
    container = make(servers, settings(failure_threshold=1, **llm))
    servers.routes[(LLM_A, "/health")] = lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("busy", request=r))
    (replica,) = container.service.llm.replicas
    replica.available, replica.in_flight = True, 1
    await container.service.llm.probe(replica)
    return replica


async def test_a_probe_timeout_while_busy_opens_the_circuit(servers: FakeServers) -> None:
    replica = await busy_replica_probed(servers)
    assert (replica.available, replica.breaker.state) == (False, CircuitState.OPEN)


async def test_a_server_silent_while_busy_is_not_failed_by_a_busy_probe(servers: FakeServers) -> None:
    replica = await busy_replica_probed(servers, silent_while_busy=True)
    assert (replica.available, replica.breaker.state) == (True, CircuitState.CLOSED)
