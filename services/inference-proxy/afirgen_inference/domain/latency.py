"""Recent latencies of one replica and their percentiles."""

from __future__ import annotations

import math
from collections import deque


class LatencyWindow:
    """The last ``size`` latencies (seconds), each with the size its call asked for (an LLM call's
    ``max_tokens``; 0 for calls of one size); percentiles by nearest rank."""

    def __init__(self, size: int = 256) -> None:
        self._samples: deque[tuple[float, int]] = deque(maxlen=size)

    def add(self, seconds: float, size: int = 0) -> None:
        """Record one call."""
        self._samples.append((seconds, size))

    def percentile(self, p: float) -> float | None:
        """The ``p``-th percentile (0 < p <= 100) of every call, or ``None`` without samples."""
        return _nearest_rank([seconds for seconds, _ in self._samples], p)

    def percentile_of_size(self, p: float, size: int) -> float | None:
        """The ``p``-th percentile of the calls whose size has the same power of two as ``size``
        (the same ``bit_length``: 64 to 127 is one size), or ``None`` without such calls."""
        grade = size.bit_length()
        return _nearest_rank([seconds for seconds, asked in self._samples if asked.bit_length() == grade], p)


def _nearest_rank(samples: list[float], p: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]
