"""A call whose client set no deadline gets the server's own, so a hung dependency
ends as DEADLINE_EXCEEDED instead of a call that never answers."""

from __future__ import annotations

import asyncio

import pytest
from afirgen_runtime.errors import DeadlineExceeded
from afirgen_runtime.interceptors import ServerInterceptor, _within


class Context:
    def __init__(self, remaining: float | None) -> None:
        self.remaining = remaining

    def time_remaining(self) -> float | None:
        return self.remaining


async def test_a_call_without_a_client_deadline_ends_at_the_servers_own() -> None:
    with pytest.raises(DeadlineExceeded):
        async with _within(Context(None), 0.05):
            await asyncio.sleep(5)


async def test_a_call_with_a_client_deadline_is_left_to_it() -> None:
    async with _within(Context(30.0), 0.01):
        finished = await asyncio.sleep(0.05, result=True)
    assert finished


async def test_a_method_without_a_deadline_is_not_bounded() -> None:
    async with _within(Context(None), 0.0):
        finished = await asyncio.sleep(0.05, result=True)
    assert finished


def test_methods_have_their_own_deadlines() -> None:
    interceptor = ServerInterceptor("fir", (), 10.0, {"GenerateFir": 180.0})
    assert (
        interceptor._own_deadline("/afirgen.fir.v1.FirService/GenerateFir"),
        interceptor._own_deadline("/x/GetFir"),
    ) == (
        180.0,
        10.0,
    )
