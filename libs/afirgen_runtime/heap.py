"""Memory a burst of calls freed, given back to the machine once a server is quiet.

glibc's malloc keeps the pages freed in its heaps for the next allocation and returns only
what is free at a heap's very top. After a burst (gRPC's threads, large message bytes, near
cache pages replaced), a service kept megabytes it no longer used for as long as it rested.
``malloc_trim(0)`` gives every free page of every heap back; it takes a millisecond or two
of the event loop, so it runs once a quiet spell has begun (no call but probes for
:data:`QUIET_SECONDS`), not while calls flow. Python's own small-object arenas are released
by the interpreter when they empty; this is about the rest.

Written here rather than taken from a library: it is one libc call behind a timer, and no
maintained package offers it."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import time
from collections.abc import Awaitable, Callable

from afirgen_runtime.busy import HEALTH

QUIET_SECONDS = 10.0
"""A server is quiet when no call but probes finished for this long."""


def _libc_trim() -> Callable[[], object] | None:
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is None:  # not glibc (musl has none): nothing to give back this way
        return None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


LIBC_TRIM = _libc_trim()
"""``malloc_trim(0)``, or ``None`` where the C library has none."""


class LastCall:
    """A ``CallObserver`` that notes when the last call, probes left out, finished."""

    __slots__ = ("_clock", "_ignored", "at")

    def __init__(self, ignored: tuple[str, ...] = (HEALTH,), clock: Callable[[], float] = time.monotonic) -> None:
        self._ignored = ignored
        self._clock = clock
        self.at = clock()
        """When the last call finished (the start, before any)."""

    def __call__(self, method: str, code: str, seconds: float) -> None:
        if not method.startswith(self._ignored):
            self.at = self._clock()

    def quiet_for(self) -> float:
        """Seconds since the last call finished."""
        return self._clock() - self.at


async def give_back_when_quiet(
    last: LastCall,
    quiet_seconds: float = QUIET_SECONDS,
    trim: Callable[[], object] | None = LIBC_TRIM,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Until cancelled: once per quiet spell, give the heaps' free pages back."""
    if trim is None:
        return
    trimmed_after: float | None = None
    """The last call before the latest trim: the spell it began."""
    while True:
        await sleep(quiet_seconds)
        if last.quiet_for() >= quiet_seconds and last.at != trimmed_after:
            trim()
            trimmed_after = last.at
