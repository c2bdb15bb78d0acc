"""Identical requests in flight at the same moment are computed once.

The first caller starts the work in its own task; callers with the same key
that arrive before it ends wait for the same result (or exception). A caller
that gives up does not cancel the work for the others; when the last one
gives up, the work is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Flight(Generic[T]):
    task: asyncio.Task[T]
    waiters: int = 1
    joined: int = 0


class SingleFlight(Generic[T]):
    """Coalesces concurrent calls by key."""

    def __init__(self) -> None:
        self._flights: dict[str, _Flight[T]] = {}
        self.coalesced = 0
        """Callers that shared another caller's work (for tests and metrics)."""

    def in_flight(self) -> int:
        """Distinct computations running now."""
        return len(self._flights)

    async def run(self, key: str, work: Callable[[], Coroutine[Any, Any, T]]) -> tuple[T, bool]:
        """The result of ``work`` (or of an identical running call) and whether it was shared."""
        flight = self._flights.get(key)
        if flight is None:
            task = asyncio.create_task(work())
            flight = _Flight(task)
            self._flights[key] = flight
            task.add_done_callback(lambda done: self._land(key, done))
        else:
            flight.waiters += 1
            flight.joined += 1
            self.coalesced += 1
        try:
            result = await asyncio.shield(flight.task)
        except asyncio.CancelledError:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                flight.task.cancel()
            raise
        return result, flight.joined > 0

    def _land(self, key: str, task: asyncio.Task[T]) -> None:
        flight = self._flights.get(key)
        if flight is not None and flight.task is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have gone
