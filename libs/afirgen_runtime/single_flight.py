"""Single flight: concurrent calls with the same key share one computation.

The first caller starts the work in a task of its own; callers with the same key
that arrive before it ends await that task and get the same result, or the same
exception. A caller that gives up (cancelled, timed out) does not cancel the work
for the others. When the last one gives up, the work is cancelled too, unless
the flight was made with ``cancel_when_abandoned=False`` (work whose result is
worth keeping although nobody waits for it any more, such as a cache fill).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass
class _Flight(Generic[T]):
    task: asyncio.Task[T]
    waiters: int = 1
    joined: int = 0


class SingleFlight(Generic[K, T]):
    """Coalesces concurrent calls by key."""

    def __init__(self, *, cancel_when_abandoned: bool = True) -> None:
        self._flights: dict[K, _Flight[T]] = {}
        self._cancel_when_abandoned = cancel_when_abandoned
        self.coalesced = 0
        """Callers that shared another caller's work, since the start."""

    def __contains__(self, key: object) -> bool:
        """True while work for ``key`` is running (a call now would share it)."""
        return key in self._flights

    def in_flight(self) -> int:
        """Distinct computations running now."""
        return len(self._flights)

    async def run(self, key: K, work: Callable[[], Coroutine[Any, Any, T]]) -> tuple[T, bool]:
        """The result of ``work()``, or of the same key's work already running, and
        whether it was shared with another caller."""
        flight = self._flights.get(key)
        if flight is None:
            flight = _Flight(asyncio.create_task(work()))
            self._flights[key] = flight
            flight.task.add_done_callback(lambda done: self._land(key, done))
        else:
            flight.waiters += 1
            flight.joined += 1
            self.coalesced += 1
        try:
            result = await asyncio.shield(flight.task)
        except asyncio.CancelledError:
            flight.waiters -= 1
            if flight.waiters == 0 and self._cancel_when_abandoned and not flight.task.done():
                flight.task.cancel()
            raise
        return result, flight.joined > 0

    def forget(self, key: K) -> None:
        """Let the next call of ``key`` start new work (what is running may be stale now);
        callers already waiting still get the running work's result."""
        self._flights.pop(key, None)

    def _land(self, key: K, task: asyncio.Task[T]) -> None:
        flight = self._flights.get(key)
        if flight is not None and flight.task is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have gone
