"""Waiting in tests: poll an observable state until it holds, within a deadline.

A test never sleeps and hopes: it names the state that means "done" (a job is
SUCCEEDED, an outbox row is sent, a counter moved) and waits for exactly that.
A timeout fails with the last value seen, so the failure says what was there.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from chaos.mesh import alive

T = TypeVar("T")


async def until(
    probe: Callable[[], Awaitable[T] | T],
    holds: Callable[[T], object] = bool,
    *,
    within: float = 30.0,
    every: float = 0.05,
    what: str = "the condition",
) -> T:
    """Call ``probe`` (sync or async) until ``holds(value)`` is true; return that value.

    Raises ``AssertionError`` naming ``what`` and the last value after ``within`` seconds.
    """
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        result = cast(T, value)
        if holds(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}; last seen: {result!r}")
        await asyncio.sleep(every)


async def until_exited(pids: list[int], *, within: float = 30.0, what: str = "the processes to exit") -> list[int]:
    """Wait until none of ``pids`` is alive (a zombie counts as gone) and return the pids left
    then, an empty list; a timeout raises ``AssertionError`` naming ``what`` and the ones left."""
    return await until(lambda: [pid for pid in pids if alive(pid)], lambda left: not left, within=within, what=what)
