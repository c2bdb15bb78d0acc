"""A call whose client set no deadline gets the server's own, so a hung dependency
ends as DEADLINE_EXCEEDED instead of a call that never answers."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from afirgen_runtime.interceptors import ServerInterceptor, _Incoming


class Context:
    """What the interceptor uses of a ``grpc.aio.ServicerContext``; ``remaining``: the client's deadline."""

    def __init__(self, remaining: float | None) -> None:
        self.remaining = remaining
        self.aborted: grpc.StatusCode | None = None

    def time_remaining(self) -> float | None:
        return self.remaining

    def code(self) -> grpc.StatusCode | None:
        return self.aborted

    async def send_initial_metadata(self, metadata: Any) -> None:
        return None

    async def abort(self, code: grpc.StatusCode, details: str, trailing_metadata: Any = ()) -> None:
        self.aborted = code
        raise grpc.aio.AbortError()


async def slow(request: Any, context: Any) -> bool:
    await asyncio.sleep(0.2)
    return True


def call(own: float) -> Any:
    """``slow`` served by an interceptor whose own deadline for it is ``own`` seconds."""
    return ServerInterceptor("test", (), own, {})._wrap_unary(slow, "/test.T/Slow", _Incoming("", "", ()))


async def test_a_call_without_a_client_deadline_ends_at_the_servers_own() -> None:
    context = Context(None)
    with pytest.raises(grpc.aio.AbortError):
        await call(0.02)(None, context)
    assert context.aborted == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_a_call_with_a_client_deadline_is_left_to_it() -> None:
    assert await call(0.02)(None, Context(30.0))


async def test_a_method_without_a_deadline_is_not_bounded() -> None:
    assert await call(0.0)(None, Context(None))


def test_methods_have_their_own_deadlines() -> None:
    interceptor = ServerInterceptor("fir", (), 10.0, {"GenerateFir": 180.0})
    assert (
        interceptor._own_deadline("/afirgen.fir.v1.FirService/GenerateFir"),
        interceptor._own_deadline("/x/GetFir"),
    ) == (
        180.0,
        10.0,
    )
