"""The shared single flight (afirgen_runtime.single_flight): one computation per key
at a time, its result or error shared, cancelled only when nobody waits any more (or
never, when asked to finish abandoned work)."""

from __future__ import annotations

import asyncio

import pytest
from afirgen_runtime.single_flight import SingleFlight


async def test_single_flight_computes_identical_concurrent_calls_once() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    runs = 0
    gate = asyncio.Event()

    async def work() -> str:
        nonlocal runs
        runs += 1
        await gate.wait()
        return "answer"

    callers = [asyncio.create_task(flights.run("k", work)) for _ in range(5)]
    other = asyncio.create_task(flights.run("other", work))
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*callers, other)
    assert runs == 2 and flights.coalesced == 4 and flights.in_flight() == 0
    assert all(r == ("answer", True) for r in results[:5]) and results[5] == ("answer", False)


async def test_single_flight_shares_errors_and_survives_one_caller_leaving() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    gate = asyncio.Event()

    async def failing() -> str:
        await gate.wait()
        raise ConnectionError("down")

    leaving = asyncio.create_task(flights.run("k", failing))
    staying = asyncio.create_task(flights.run("k", failing))
    await asyncio.sleep(0)
    leaving.cancel()
    await asyncio.sleep(0)
    gate.set()
    with pytest.raises(ConnectionError):
        await staying


async def test_single_flight_cancels_work_when_every_caller_left() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    cancelled = asyncio.Event()

    async def slow() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    caller = asyncio.create_task(flights.run("k", slow))
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.wait_for(cancelled.wait(), 1)
    await asyncio.sleep(0)
    assert flights.in_flight() == 0


async def test_abandoned_work_finishes_when_asked_to() -> None:
    flights: SingleFlight[str, str] = SingleFlight(cancel_when_abandoned=False)
    finished = asyncio.Event()

    async def fill() -> str:
        await asyncio.sleep(0.01)
        finished.set()
        return "stored"

    caller = asyncio.create_task(flights.run("k", fill))
    await asyncio.sleep(0)
    caller.cancel()
    await asyncio.wait_for(finished.wait(), 1)
    assert flights.in_flight() == 0


async def test_a_caller_with_a_time_budget_gives_up_alone() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    gate = asyncio.Event()

    async def work() -> str:
        await gate.wait()
        return "late"

    patient = asyncio.create_task(flights.run("k", work))
    await asyncio.sleep(0)
    assert "k" in flights
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await flights.run("k", work)
    gate.set()
    assert await patient == ("late", True)
    assert "k" not in flights
