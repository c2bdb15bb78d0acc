"""The inference proxy in the running mesh: ListModels through Envoy, an LLM
outage and recovery, drafting from the rules while the LLM is down, and load
shedding beyond the concurrency limit."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from afirgen.inference.v1 import inference_pb2 as pb
from afirgen.inference.v1 import inference_pb2_grpc
from afirgen_runtime.grpc_errors import from_rpc_error
from google.protobuf import json_format

from scripts.devstack.stack import Stack
from scripts.devstack.supervisor import MODEL_NICENESS
from tests.waiting import until

pytestmark = pytest.mark.e2e
Stub = inference_pb2_grpc.InferenceServiceStub
LLM_PROGRAM = "models:llm"
MODELS = ("models:llm", "models:asr", "models:ocr")


@pytest.fixture
async def inference(stack: Stack) -> AsyncIterator[Stub]:
    """A stub on the stack's inference proxy."""
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.cfg.inference_port}")
    yield inference_pb2_grpc.InferenceServiceStub(channel)
    await channel.close()


def chat(text: str, max_tokens: int = 4, temperature: float = 0.0) -> pb.GenerateRequest:
    return pb.GenerateRequest(
        messages=[pb.ChatMessage(role="user", content=text)],
        sampling=pb.SamplingParams(temperature=temperature, max_tokens=max_tokens),
    )


async def llm_backend(source: httpx.AsyncClient | Stub) -> dict[str, object]:
    """The LLM as ListModels shows it: through the edge (either inference proxy replica), or
    from the one proxy a ``Stub`` calls (the one whose calls a test makes)."""
    if isinstance(source, httpx.AsyncClient):
        reply = await source.get("/v1/models")
        assert reply.status_code == 200, reply.text
        backends = reply.json()["backends"]
    else:
        listed = await source.ListModels(pb.ListModelsRequest(), timeout=10)
        backends = [json_format.MessageToDict(b, preserving_proto_field_name=True) for b in listed.backends]
    (llm,) = [b for b in backends if b["kind"] == "llm"]
    return dict(llm)


async def wait_until_llm_serves(source: httpx.AsyncClient | Stub, within: float = 90.0) -> None:
    """Wait until ListModels shows the LLM available with a closed circuit (through the edge,
    or at the one proxy a ``Stub`` calls)."""
    await until(
        lambda: llm_backend(source),
        lambda llm: bool(llm.get("available")) and llm.get("circuit_state") == "CIRCUIT_STATE_CLOSED",
        within=within,
        every=0.1,
        what="the LLM available with a closed circuit",
    )


async def test_list_models_through_envoy(rest: httpx.AsyncClient) -> None:
    reply = await rest.get("/v1/models")
    assert reply.status_code == 200
    backends = {b["kind"]: b for b in reply.json()["backends"]}
    assert set(backends) == {"llm", "asr", "ocr"}
    for backend in backends.values():
        assert backend["available"] is True, backend
        assert backend["circuit_state"] == "CIRCUIT_STATE_CLOSED"
        assert backend["url"].startswith("http://127.0.0.1:") and backend["max_in_flight"] >= 1
    assert backends["llm"]["model"] == "smollm2"


async def test_llm_outage_fails_fast_and_recovers_by_itself(
    stack: Stack, inference: Stub, rest: httpx.AsyncClient
) -> None:
    await wait_until_llm_serves(rest)
    await inference.Generate(chat("Say yes."), timeout=60)  # warm
    stack.ctl("stop", LLM_PROGRAM)
    try:
        errors = []
        for i in range(6):
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await inference.Generate(chat(f"Outage probe {i}."), timeout=30)
            assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
            errors.append(from_rpc_error(failed.value))
        assert {(e.reason, e.metadata["backend"]) for e in errors} == {("MODEL_UNAVAILABLE", "llm")}
        # The failures opened the circuit: the last calls were refused without calling the model.
        # (What a refusal costs in time is the benchmark's business, not this test's.)
        assert ["circuit" in e.message for e in errors[-3:]] == [True, True, True], [e.message for e in errors]
        assert (await llm_backend(inference))["circuit_state"] == "CIRCUIT_STATE_OPEN"
        # Availability comes from the health probe (every second): wait for the next one.
        down = await until(
            lambda: llm_backend(inference), lambda llm: not llm.get("available"), every=0.1, what="the LLM unavailable"
        )
        assert down["last_error"]
    finally:
        stack.ctl("start", LLM_PROGRAM)
    # Every proxy's circuit closes by itself (the next tests may reach either through the edge).
    for port in stack.cfg.inference_ports:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await wait_until_llm_serves(inference_pb2_grpc.InferenceServiceStub(channel))
    reply = await inference.Generate(chat("Say yes again."), timeout=60)
    assert reply.text is not None and reply.usage.attempts == 1


async def test_with_the_llm_down_a_complaint_still_becomes_a_draft_from_the_rules_alone(
    stack: Stack, rest: httpx.AsyncClient, station: str
) -> None:
    await wait_until_llm_serves(rest)
    complaint = (
        "On 12 March 2026 at about 9 pm my motorcycle UP15 AB 4521 worth 55,000 rupees was stolen"
        " from outside my house in Shastri Nagar. I suspect nobody."
    )
    stack.ctl("stop", LLM_PROGRAM)
    try:
        resp = await rest.post(
            "/v1/firs:generate",
            json={"station": {"code": station}, "complainant": {"name": "Ravi Kumar"}, "text": complaint},
        )
    finally:
        stack.ctl("start", LLM_PROGRAM)
    assert resp.status_code == 200, resp.text
    fir = resp.json()
    generation = fir["generation"]
    assert (
        generation.get("model", ""),
        sorted(generation["deterministic_parts"]),
        fir["legal_sections"][0]["section"],
    ) == (
        "",
        ["narrative", "summary"],
        "303",
    ), fir
    await wait_until_llm_serves(rest)


@pytest.mark.timeout(300)  # every slot and queue place of the LLM is filled, and each call served
async def test_excess_generations_get_resource_exhausted_at_once(inference: Stub) -> None:
    await wait_until_llm_serves(inference)  # the proxy this test calls, not whichever the edge picks
    llm = await llm_backend(inference)
    slots, places = int(llm["max_in_flight"]), int(llm["max_queue"])  # one LLM server behind this proxy

    async def generation(text: str, max_tokens: int) -> pb.GenerateResponse:
        return await inference.Generate(chat(text, max_tokens), timeout=100)

    def load(backend: dict[str, object]) -> tuple[object, object]:
        return backend.get("in_flight", 0), backend.get("queued", 0)

    # Long generations take every slot, short ones every queue place behind them (all distinct
    # prompts: an identical request would share another's answer instead of taking a place)...
    busy = [asyncio.create_task(generation(f"Tell a long story about the number {i}.", 400)) for i in range(slots)]
    await until(lambda: llm_backend(inference), lambda b: load(b) == (slots, 0), what="every slot taken")
    waiting = [asyncio.create_task(generation(f"Reply with the number {i}.", 2)) for i in range(places)]
    await until(lambda: llm_backend(inference), lambda b: load(b) == (slots, places), what="every queue place taken")
    # ...so every further call is refused at once, while they all still run.
    codes = []
    for i in range(8):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await generation(f"Name colour number {i}.", 2)
        codes.append(refused.value.code())
    running = sum(not task.done() for task in busy + waiting)
    served = await asyncio.gather(*busy, *waiting)
    assert (codes, running, len(served)) == (
        [grpc.StatusCode.RESOURCE_EXHAUSTED] * 8,
        slots + places,
        slots + places,
    )


def test_the_model_servers_run_at_a_low_cpu_priority(stack: Stack) -> None:
    """A draft yields the CPU to reads on the stack's one machine (supervisor.MODEL_NICENESS)."""
    found = {program: os.getpriority(os.PRIO_PROCESS, int(stack.ctl("pid", program).strip())) for program in MODELS}
    assert found == dict.fromkeys(MODELS, MODEL_NICENESS)
