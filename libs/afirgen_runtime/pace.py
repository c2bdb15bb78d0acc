"""A token bucket of starts, shared by the jobs worker (how many jobs it may claim) and
:class:`afirgen_runtime.busy.Pacer` (turns for background work while a service is busy)."""

from __future__ import annotations

import time
from collections.abc import Callable


class Pace:
    """A token bucket of job starts: ``rate`` a second, at most ``burst`` saved up; rate 0
    allows everything. (Written here: the worker asks how many jobs it may claim at once,
    which the asyncio rate limiters, built to admit one caller at a time, do not answer.)"""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(max(1, burst))
        self._clock = clock
        self._tokens = self._burst
        self._at = clock()

    def allowed(self, wanted: int) -> int:
        """How many of ``wanted`` jobs may start now."""
        if not self._rate:
            return wanted
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        return min(wanted, int(self._tokens + 1e-9))  # 1e-9: a clock's rounding is not a lost start

    def take(self, started: int) -> None:
        """``started`` jobs started."""
        if self._rate:
            self._tokens -= started

    def next_in(self) -> float:
        """Seconds until the next start is allowed."""
        if not self._rate or self._tokens >= 1:
            return 0.0
        return (1 - self._tokens) / self._rate
