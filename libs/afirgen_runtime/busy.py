"""Background work that yields to the calls clients wait for: how busy a service is with them
(:class:`CallRate`, a :data:`CallObserver` counting finished calls per second) and turns for
background work while it is (:class:`Pacer`). fir's job deliveries wait for a turn, and its
document renderer rests longer between documents, while reads are flowing.

Counting is one clock read and an addition per call: the observer runs after every call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from prometheus_client import Histogram

from afirgen_runtime.metrics import LATENCY_BUCKETS
from afirgen_runtime.pace import Pace

HEALTH = "/grpc.health.v1."
"""Method prefix of health probes (Envoy's, every few seconds): no client waits on them."""
PACED_WAIT = Histogram(
    "afirgen_paced_wait_seconds",
    "Wait of background work for its turn while the service was busy with requests",
    ["work"],
    buckets=LATENCY_BUCKETS,
)


class CallRate:
    """Calls finished per second, by whole seconds of ``clock``, leaving out methods that start
    with one of ``ignored`` (probes, and calls that are background work themselves)."""

    __slots__ = ("_clock", "_count", "_ignored", "_previous", "_second")

    def __init__(self, ignored: tuple[str, ...] = (HEALTH,), clock: Callable[[], float] = time.monotonic) -> None:
        self._ignored = ignored
        self._clock = clock
        self._second = 0
        """The whole second ``_count`` counts."""
        self._count = 0
        self._previous = 0
        """The count of the second before ``_second`` (0 when no call finished in it)."""

    def __call__(self, method: str, code: str, seconds: float) -> None:
        """Count a finished call (a ``CallObserver``: its code and duration do not matter)."""
        if method.startswith(self._ignored):
            return
        self._roll(int(self._clock()))
        self._count += 1

    def _roll(self, second: int) -> None:
        if second != self._second:
            self._previous = self._count if second == self._second + 1 else 0
            self._second = second
            self._count = 0

    def per_second(self) -> int:
        """Calls finished in the last whole second, or in the current one if more did already:
        a rise shows at once, a fall after at most a second."""
        self._roll(int(self._clock()))
        return max(self._previous, self._count)


class Pacer:
    """Turns for background work: at once while ``busy()`` is false, else at most ``per_second``
    a second (a :class:`~afirgen_runtime.pace.Pace` of one start). Turns while busy, and their
    waits, are ``afirgen_paced_wait_seconds{work}``."""

    def __init__(
        self,
        per_second: float,
        busy: Callable[[], bool],
        work: str = "jobs",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, got {per_second}")
        self._pace = Pace(per_second, burst=1, clock=clock)
        self._busy = busy
        self._clock = clock
        self._sleep = sleep
        self._waits = PACED_WAIT.labels(work)

    async def turn(self) -> None:
        """Return when this caller's work may start."""
        if not self._busy():
            return
        asked = self._clock()
        while not self._pace.allowed(1):
            await self._sleep(self._pace.next_in())
        self._pace.take(1)
        self._waits.observe(self._clock() - asked)
