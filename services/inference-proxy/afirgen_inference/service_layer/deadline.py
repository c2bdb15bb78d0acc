"""The caller's deadline, carried through every wait and every model call."""

from __future__ import annotations

import time
from dataclasses import dataclass

from afirgen_runtime.errors import DeadlineExceeded

from afirgen_inference.service_layer.ports import Clock


@dataclass(frozen=True)
class Deadline:
    """An absolute deadline on ``clock`` (``None``: the caller set none)."""

    expires_at: float | None
    clock: Clock = time.monotonic

    @classmethod
    def after(cls, seconds: float | None, clock: Clock = time.monotonic) -> Deadline:
        """The deadline ``seconds`` from now (``None``: no deadline)."""
        return cls(None if seconds is None else clock() + seconds, clock)

    def remaining(self) -> float | None:
        """Seconds left (may be negative), or ``None`` without a deadline."""
        return None if self.expires_at is None else self.expires_at - self.clock()

    def cap(self, seconds: float) -> float:
        """``seconds``, shortened to what is left; DEADLINE_EXCEEDED when nothing is."""
        left = self.remaining()
        if left is None:
            return seconds
        if left <= 0:
            raise DeadlineExceeded("the caller's deadline passed before the model server was called")
        return min(seconds, left)

    def caps(self, seconds: float) -> bool:
        """True when the caller's deadline is shorter than ``seconds``."""
        left = self.remaining()
        return left is not None and left < seconds
