"""Exponential backoff with "equal jitter", for work that is tried again later.

After the n-th failure in a row the ceiling is ``min(cap, base * 2**(n-1))`` and the
delay is half of it plus a random part of the other half: each caller waits at least
half the ceiling, and many callers that failed together spread out instead of coming
back at the same moment.

This is the delay of a retry that is scheduled or stored (an outbox row's next send, a
job's next attempt) or of a reconnect loop. A retry loop around one call uses tenacity
instead (the database's transient failures, the inference proxy's model calls).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delays that double per failure, capped, half of each random."""

    base_seconds: float = 1.0
    """Ceiling after the first failure."""
    cap_seconds: float = 300.0
    """Largest ceiling."""

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after ``failures`` failures in a row (1 for the first);
        ``rand`` returns a float in [0, 1), like :func:`random.random`."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, failures - 1))
        return float(ceiling / 2 + rand() * ceiling / 2)
