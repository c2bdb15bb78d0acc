"""Recent latencies of one replica and their percentiles."""

from __future__ import annotations

import math
from collections import deque


class LatencyWindow:
    """The last ``size`` latencies (seconds); percentiles by nearest rank."""

    def __init__(self, size: int = 256) -> None:
        self._samples: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        """Record one call."""
        self._samples.append(seconds)

    def percentile(self, p: float) -> float | None:
        """The ``p``-th percentile (0 < p <= 100), or ``None`` without samples."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        rank = max(1, math.ceil(p / 100.0 * len(ordered)))
        return ordered[rank - 1]
