"""The server interceptor answers a failure with its status and records each call's outcome,
for unary calls and streams alike (a stream that sent nothing fails trailers-only)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from afirgen_runtime.errors import NotFound
from afirgen_runtime.interceptors import ServerInterceptor, _Incoming, invocation_header


class Context:
    """What the interceptor uses of a ``grpc.aio.ServicerContext``, recording what it is told."""

    def __init__(self) -> None:
        self.said: list[tuple[str, Any]] = []
        self._code: grpc.StatusCode | None = None

    def time_remaining(self) -> float | None:
        return None

    def code(self) -> grpc.StatusCode | None:
        return self._code

    async def send_initial_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.said.append(("headers", [key for key, _ in metadata]))

    async def abort(self, code: grpc.StatusCode, details: str, trailing_metadata: Any = ()) -> None:
        self._code = code
        self.said.append(("abort", (code.name, sorted(key for key, _ in trailing_metadata))))
        raise grpc.aio.AbortError()


@pytest.fixture
def outcomes() -> list[tuple[str, str]]:
    return []


def interceptor(outcomes: list[tuple[str, str]]) -> ServerInterceptor:
    return ServerInterceptor("test", (lambda method, code, _: outcomes.append((method, code)),), 5.0, {})


async def test_a_unary_failure_is_answered_with_its_status_after_the_request_id(
    outcomes: list[tuple[str, str]],
) -> None:
    async def missing(request: Any, context: Any) -> Any:
        raise NotFound("no such thing")

    context = Context()
    with pytest.raises(grpc.aio.AbortError):
        await interceptor(outcomes)._wrap_unary(missing, "/t/Get", _Incoming("", "", ()))(None, context)
    assert context.said == [
        ("headers", ["x-request-id"]),
        ("abort", ("NOT_FOUND", ["grpc-status-details-bin", "x-request-id"])),
    ]
    assert outcomes == [("/t/Get", "NOT_FOUND")]


async def test_a_stream_failing_before_its_first_message_is_trailers_only(outcomes: list[tuple[str, str]]) -> None:
    async def missing(request: Any, context: Any) -> AsyncIterator[int]:
        raise NotFound("no such thing")
        yield 0

    context = Context()
    with pytest.raises(grpc.aio.AbortError):
        async for _ in interceptor(outcomes)._wrap_stream(missing, "/t/Watch", _Incoming("", "", ()))(None, context):
            pass
    assert context.said == [("abort", ("NOT_FOUND", ["grpc-status-details-bin", "x-request-id"]))]
    assert outcomes == [("/t/Watch", "NOT_FOUND")]


async def test_a_stream_failing_after_a_message_has_sent_its_headers(outcomes: list[tuple[str, str]]) -> None:
    async def one_then_fail(request: Any, context: Any) -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("broken")

    context, received = Context(), []
    with pytest.raises(grpc.aio.AbortError):
        async for item in interceptor(outcomes)._wrap_stream(one_then_fail, "/t/Watch", _Incoming("", "", ()))(
            None, context
        ):
            received.append(item)
    assert (received, context.said) == (
        [1],
        [("headers", ["x-request-id"]), ("abort", ("INTERNAL", ["grpc-status-details-bin", "x-request-id"]))],
    )
    assert outcomes == [("/t/Watch", "INTERNAL")]


async def test_a_servicer_reads_the_calls_headers_as_the_interceptor_got_them(outcomes: list[tuple[str, str]]) -> None:
    async def read(request: Any, context: Any) -> str:
        return invocation_header(context, "x-k")  # the fake context has no invocation_metadata()

    wrapped = interceptor(outcomes)._wrap_unary(read, "/t/Get", _Incoming("", "", (("x-k", "v"),)))
    assert await wrapped(None, Context()) == "v"
