"""The inference proxy in the running mesh: ListModels through Envoy, an LLM
outage and recovery, drafting from the rules while the LLM is down, and load
shedding beyond the concurrency limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from afirgen.inference.v1 import inference_pb2 as pb
from afirgen.inference.v1 import inference_pb2_grpc
from afirgen_runtime.grpc_errors import from_rpc_error

from scripts.devstack.stack import Stack

pytestmark = pytest.mark.e2e
Stub = inference_pb2_grpc.InferenceServiceStub
LLM_PROGRAM = "models:llm"


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


async def llm_backend(rest: httpx.AsyncClient) -> dict[str, object]:
    reply = await rest.get("/v1/models")
    assert reply.status_code == 200, reply.text
    (llm,) = [b for b in reply.json()["backends"] if b["kind"] == "llm"]
    return dict(llm)


async def wait_until_llm_serves(rest: httpx.AsyncClient, within: float = 90.0) -> float:
    """Seconds until ListModels shows the LLM available with a closed circuit."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        llm = await llm_backend(rest)
        if llm.get("available") and llm.get("circuit_state") == "CIRCUIT_STATE_CLOSED":
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"the LLM did not come back within {within:.0f}s: {llm}")


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
        failures: list[tuple[float, str]] = []
        for i in range(6):
            started = time.perf_counter()
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await inference.Generate(chat(f"Outage probe {i}."), timeout=30)
            elapsed_ms = (time.perf_counter() - started) * 1000
            assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
            error = from_rpc_error(failed.value)
            assert error.reason == "MODEL_UNAVAILABLE" and error.metadata["backend"] == "llm"
            failures.append((elapsed_ms, error.message))
        print("\nfailure latencies (ms):", [round(f[0], 1) for f in failures])
        assert "circuit" in failures[-1][1]
        assert max(f[0] for f in failures[-3:]) < 50  # open circuit: milliseconds, no model call
        llm = await llm_backend(rest)
        assert llm["circuit_state"] == "CIRCUIT_STATE_OPEN"
        # Availability comes from the health probe (every second): wait for the next one.
        for _ in range(50):
            if not llm.get("available"):
                break
            await asyncio.sleep(0.1)
            llm = await llm_backend(rest)
        assert not llm.get("available"), llm
        assert llm["last_error"]
    finally:
        restarted = time.monotonic()
        stack.ctl("start", LLM_PROGRAM)
    recovered = await wait_until_llm_serves(rest)
    started = time.perf_counter()
    reply = await inference.Generate(chat("Say yes again."), timeout=60)
    print(
        f"recovery: circuit closed {time.monotonic() - restarted:.1f}s after the LLM was started "
        f"({recovered:.1f}s of polling); first generation took {(time.perf_counter() - started) * 1000:.0f} ms"
    )
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


async def test_excess_generations_get_resource_exhausted_at_once(inference: Stub, rest: httpx.AsyncClient) -> None:
    await wait_until_llm_serves(rest)
    await inference.ListModels(pb.ListModelsRequest(), timeout=10)  # connect first: time only the calls
    llm = await llm_backend(rest)
    capacity = int(llm["max_in_flight"]) + int(llm["max_queue"])  # one replica in the test stack
    callers = capacity + 8
    outcomes: list[tuple[str, float]] = []

    async def one(i: int) -> None:
        started = time.perf_counter()
        try:
            await inference.Generate(chat(f"Reply with the number {i}.", max_tokens=2), timeout=100)
            outcomes.append(("ok", time.perf_counter() - started))
        except grpc.aio.AioRpcError as exc:
            outcomes.append((exc.code().name, time.perf_counter() - started))

    await asyncio.gather(*(one(i) for i in range(callers)))
    refused = [t for code, t in outcomes if code == "RESOURCE_EXHAUSTED"]
    served = [t for code, t in outcomes if code == "ok"]
    print(
        f"\n{callers} concurrent generations: {len(served)} served, {len(refused)} refused "
        f"(max refusal latency {max(refused) * 1000:.1f} ms); capacity {capacity}"
    )
    # A slot freed while late callers were still arriving may serve one or two more.
    assert len(served) >= capacity and len(refused) >= callers - capacity - 2
    # Refused at once: before any caller got its answer, so none of them waited for a slot
    # (absolute times depend on how busy the machine is).
    assert max(refused) < min(served) and max(refused) < 2.0
